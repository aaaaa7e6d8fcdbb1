#pragma once
/// @file
/// C++ functions that other nodes call by module and function name: `rpc:call`,
/// `erpc:call`, `erpc:cast` and `erl_call` reach them on a Spindle node as they reach
/// Erlang functions on a BEAM node.

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>

#include "spindle/term.hpp"
#include "spindle/term_exception.hpp"

namespace spindle {

/// A callable function: takes the call's arguments, returns its result. To fail the way
/// an Erlang function does, throw `ErlangError` (error(Reason)), `ErlangThrow`
/// (throw(Value)) or `ProcessExit` (exit(Reason)); any other exception becomes an error
/// whose reason names it (`{exception, Type, What}`). Each call runs in a process of its
/// own on a worker thread, so, like a handler, a function must not block for long.
using Function = std::function<Term(std::span<const Term> args)>;

/// Raised by a Function: Erlang's `error(Reason)`, e.g. `ErlangError(atom("badarg"))`.
class ErlangError : public TermException {
 public:
  explicit ErlangError(Term reason) : TermException("error", std::move(reason)) {}
  const Term& reason() const noexcept { return term(); }
};

/// Raised by a Function: Erlang's `throw(Value)`.
class ErlangThrow : public TermException {
 public:
  explicit ErlangThrow(Term value) : TermException("throw", std::move(value)) {}
  const Term& value() const noexcept { return term(); }
};

class Process;

/// Makes a process from spawn arguments: what `spawn(Node, Module, Function, Args)` on
/// another node starts here. Throw `ErlangError(atom("badarg"))` for arguments it cannot take.
using ProcessFactory = std::function<std::unique_ptr<Process>(std::span<const Term> args)>;

/// The functions and spawnable process kinds of one node, by module, name and arity.
/// Thread-safe.
class FunctionTable {
 public:
  /// Registers (or replaces) `module:function/arity`.
  void add(Atom module, Atom function, std::size_t arity, Function fn);
  /// False if it was not registered.
  bool remove(Atom module, Atom function, std::size_t arity);
  /// The function, or null (Erlang's `undef`).
  std::shared_ptr<const Function> find(Atom module, Atom function, std::size_t arity) const;

  /// Registers (or replaces) a process kind spawned as `module:function/arity`.
  void add_process(Atom module, Atom function, std::size_t arity, ProcessFactory factory);
  /// The process kind, or null.
  std::shared_ptr<const ProcessFactory> find_process(Atom module, Atom function, std::size_t arity) const;

 private:
  struct Key {
    Atom module;
    Atom function;
    std::size_t arity;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  mutable std::shared_mutex mutex_;
  std::unordered_map<Key, std::shared_ptr<const Function>, KeyHash> functions_;
  std::unordered_map<Key, std::shared_ptr<const ProcessFactory>, KeyHash> processes_;
};

/// An Erlang term naming an exception that escaped C++ code: `{exception, Type, What}`
/// with the demangled type name and `what()` as binaries.
Term exception_reason(const std::exception& e);

}  // namespace spindle
