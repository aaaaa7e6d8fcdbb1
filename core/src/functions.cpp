#include "spindle/functions.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <mutex>
#include <typeinfo>

#include "hash_mix.hpp"

namespace spindle {

std::size_t FunctionTable::KeyHash::operator()(const Key& k) const noexcept {
  return detail::mix64((std::uint64_t{k.module.index()} << 32) ^ k.function.index() ^ (std::uint64_t{k.arity} << 56));
}

void FunctionTable::add(Atom module, Atom function, std::size_t arity, Function fn) {
  auto shared = std::make_shared<const Function>(std::move(fn));
  std::unique_lock lock(mutex_);
  functions_.insert_or_assign(Key{module, function, arity}, std::move(shared));
}

bool FunctionTable::remove(Atom module, Atom function, std::size_t arity) {
  std::unique_lock lock(mutex_);
  return functions_.erase(Key{module, function, arity}) != 0;
}

std::shared_ptr<const Function> FunctionTable::find(Atom module, Atom function, std::size_t arity) const {
  std::shared_lock lock(mutex_);
  const auto it = functions_.find(Key{module, function, arity});
  return it == functions_.end() ? nullptr : it->second;
}

void FunctionTable::add_process(Atom module, Atom function, std::size_t arity, ProcessFactory factory) {
  auto shared = std::make_shared<const ProcessFactory>(std::move(factory));
  std::unique_lock lock(mutex_);
  processes_.insert_or_assign(Key{module, function, arity}, std::move(shared));
}

std::shared_ptr<const ProcessFactory> FunctionTable::find_process(Atom module, Atom function, std::size_t arity) const {
  std::shared_lock lock(mutex_);
  const auto it = processes_.find(Key{module, function, arity});
  return it == processes_.end() ? nullptr : it->second;
}

Term exception_reason(const std::exception& e) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status);
  const std::string type = status == 0 && demangled != nullptr ? demangled : typeid(e).name();
  std::free(demangled);
  return tuple(atom("exception"), binary(type), binary(e.what()));
}

}  // namespace spindle
