#include "spindle/bigint.hpp"

#include <vector>

namespace spindle {

BigInt to_bigint(const Term& integer) {
  if (auto small = integer.to_int64()) return BigInt(*small);
  const BigIntView big = integer.as_bigint();
  BigInt value;
  import_bits(value, big.limbs().rbegin(), big.limbs().rend(), 64, true);  // most significant first
  return big.negative() ? BigInt(-value) : value;
}

Term integer(const BigInt& value) {
  if (value >= Term::kMinSmall && value <= Term::kMaxSmall) return Term(value.convert_to<std::int64_t>());
  std::vector<std::uint64_t> limbs;
  const BigInt magnitude = abs(value);
  export_bits(magnitude, std::back_inserter(limbs), 64, false);  // least significant first
  return integer_from_limbs(value < 0, limbs);
}

}  // namespace spindle
