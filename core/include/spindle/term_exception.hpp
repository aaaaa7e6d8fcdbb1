#pragma once
/// @file
/// The base of exceptions that carry an Erlang term: an exit reason, an error reason,
/// a thrown value.

#include <exception>
#include <string>
#include <string_view>

#include "spindle/term.hpp"

namespace spindle {

class TermException : public std::exception {
 public:
  /// `what()` is `kind: <the term in Erlang syntax>`.
  TermException(std::string_view kind, Term term) : term_(std::move(term)), text_(std::string(kind) + ": " + term_.to_string()) {}
  const Term& term() const noexcept { return term_; }
  const char* what() const noexcept override { return text_.c_str(); }

 private:
  Term term_;
  std::string text_;
};

}  // namespace spindle
