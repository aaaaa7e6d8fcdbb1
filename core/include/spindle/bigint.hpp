#pragma once
/// @file
/// Arbitrary-precision integers as Boost.Multiprecision's `cpp_int`, for arithmetic
/// on integer terms of any size.

#include <boost/multiprecision/cpp_int.hpp>

#include "spindle/term.hpp"

namespace spindle {

using BigInt = boost::multiprecision::cpp_int;

/// The value of an integer term of any size (throws `BadTermAccess` for non-integers).
BigInt to_bigint(const Term& integer);

/// The integer term for `value` (inline when it fits, boxed otherwise).
Term integer(const BigInt& value);

}  // namespace spindle
