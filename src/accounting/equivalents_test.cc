#include "accounting/equivalents.h"

#include <gtest/gtest.h>

namespace carbonclock {
namespace {

TEST(EquivalentsTest, EpaFactorsInGrams) {
  // 8.22 g is one smartphone charge (8.22e-6 t); 398 g one mile (3.98e-4 t).
  auto one_charge = equivalents(8.22);
  ASSERT_GE(one_charge.size(), 4u);
  EXPECT_NEAR(one_charge[0].count, 1.0, 1e-12);
  EXPECT_NEAR(equivalents(398)[1].count, 1.0, 1e-12);
  EXPECT_NEAR(equivalents(8887)[2].count, 1.0, 1e-12);
  EXPECT_NEAR(equivalents(8.3e6)[4].count, 1.0, 1e-12);
}

TEST(EquivalentsTest, SentenceNamesTheFirstFour) {
  // 822 g: 100 charges, 822/398 = 2.07 miles, 822/8887 = 0.0925 gallons, 9.9e-05 home-years.
  EXPECT_EQ(equivalents_sentence(822),
            "100 smartphone charges, 2.07 miles driven by an average car, 0.0925 gallons of "
            "gasoline burned, 9.9e-05 US homes' energy use for one year");
}

}  // namespace
}  // namespace carbonclock
