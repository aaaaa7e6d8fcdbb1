#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <utility>
#include <vector>

#include "spindle/mailbox.hpp"

namespace spindle {
namespace {

struct Item : MailboxNode {
  explicit Item(int v, int p = 0) : value(v), producer(p) {}
  int value;
  int producer;
};

std::vector<int> values(NodeList list) {
  std::vector<int> out;
  while (!list.empty()) {
    auto* item = static_cast<Item*>(list.pop_front());
    out.push_back(item->value);
    delete item;
  }
  return out;
}

TEST(Mailbox, FirstPushIntoAnIdleMailboxAsksForScheduling) {
  Mailbox box;
  EXPECT_TRUE(box.idle());
  EXPECT_EQ(box.push(new Item(1)), Mailbox::Push::QueuedWasIdle);
  EXPECT_EQ(box.push(new Item(2)), Mailbox::Push::Queued);
  EXPECT_EQ(values(box.take_all()), (std::vector<int>{1, 2}));
  EXPECT_TRUE(box.take_all().empty());
  EXPECT_TRUE(box.try_idle());
  EXPECT_EQ(box.push(new Item(3)), Mailbox::Push::QueuedWasIdle);
  EXPECT_EQ(values(box.close()), (std::vector<int>{3}));
}

TEST(Mailbox, TryIdleFailsWhenMailArrivedAfterTheLastTake) {
  Mailbox box;
  ASSERT_EQ(box.push(new Item(1)), Mailbox::Push::QueuedWasIdle);
  EXPECT_EQ(values(box.take_all()), (std::vector<int>{1}));
  EXPECT_EQ(box.push(new Item(2)), Mailbox::Push::Queued);  // owner still running
  EXPECT_FALSE(box.try_idle());
  EXPECT_EQ(values(box.take_all()), (std::vector<int>{2}));
  EXPECT_TRUE(box.try_idle());
}

TEST(Mailbox, ClaimSchedulesAnIdleMailboxOnce) {
  Mailbox box;
  EXPECT_TRUE(box.try_claim());
  EXPECT_FALSE(box.try_claim());
  EXPECT_EQ(box.push(new Item(1)), Mailbox::Push::Queued);  // already scheduled
  EXPECT_EQ(values(box.take_all()), (std::vector<int>{1}));
}

TEST(Mailbox, ClosedMailboxRefusesAndReturnsWhatWasLeft) {
  Mailbox box;
  box.push(new Item(1));
  box.push(new Item(2));
  EXPECT_EQ(values(box.close()), (std::vector<int>{1, 2}));
  EXPECT_TRUE(box.closed());
  Item late(3);
  EXPECT_EQ(box.push(&late), Mailbox::Push::Closed);
  EXPECT_FALSE(box.try_claim());
  EXPECT_TRUE(box.close().empty());
}

TEST(Mailbox, QuietPushesWaitForTheNextWakeUpAndComeFirst) {
  Mailbox box;
  EXPECT_EQ(box.push_quietly(new Item(1)), Mailbox::Push::Held);
  EXPECT_EQ(box.push_quietly(new Item(2)), Mailbox::Push::Held);
  EXPECT_TRUE(box.idle());                          // nobody was asked to run the owner
  EXPECT_TRUE(box.take_all().empty());              // and a take does not steal them
  EXPECT_EQ(box.push(new Item(3)), Mailbox::Push::QueuedWasIdle);
  EXPECT_FALSE(box.idle());
  EXPECT_EQ(box.push_quietly(new Item(4)), Mailbox::Push::Queued);  // owner scheduled: just queued
  EXPECT_EQ(values(box.take_all()), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_TRUE(box.try_idle());
}

TEST(Mailbox, TooManyQuietPushesWakeTheOwner) {
  Mailbox box;
  for (int i = 0; i < static_cast<int>(Mailbox::kHeldLimit); ++i)
    EXPECT_EQ(box.push_quietly(new Item(i)), Mailbox::Push::Held);
  EXPECT_EQ(box.push_quietly(new Item(99)), Mailbox::Push::QueuedWasIdle);
  EXPECT_EQ(values(box.take_all()), (std::vector<int>{0, 1, 2, 99}));
  EXPECT_TRUE(box.try_idle());
  EXPECT_EQ(box.push_quietly(new Item(5)), Mailbox::Push::Held);  // the count starts again
  EXPECT_EQ(values(box.close()), (std::vector<int>{5}));
}

TEST(Mailbox, ClaimingAnIdleMailboxTakesWhatItHolds) {
  Mailbox box;
  EXPECT_EQ(box.push_quietly(new Item(1)), Mailbox::Push::Held);
  EXPECT_TRUE(box.try_claim());
  EXPECT_FALSE(box.try_claim());
  EXPECT_EQ(values(box.take_all()), (std::vector<int>{1}));
  EXPECT_TRUE(box.try_idle());
  Item late(2);
  box.close();
  EXPECT_EQ(box.push_quietly(&late), Mailbox::Push::Closed);
}

TEST(Mailbox, NodeListEditing) {
  NodeList list;
  Item a(1), b(2), c(3), d(4);
  list.push_back(&a);
  list.push_back(&b);
  list.push_back(&c);
  list.erase_after(&a, &b);  // remove the middle
  list.insert_after(&c, &d);  // append after the tail
  list.erase_after(nullptr, &a);  // remove the front
  std::vector<int> seen;
  for (MailboxNode* n = list.front(); n != nullptr; n = n->next) seen.push_back(static_cast<Item*>(n)->value);
  EXPECT_EQ(seen, (std::vector<int>{3, 4}));
}

// Many producers, one consumer: nothing lost, nothing duplicated, each producer's items
// in the order it pushed them. Run under ThreadSanitizer in CI.
// A chain linked newest first, as SendCoalescer builds one, of the values `first` to
// `first + count - 1` (oldest first): its newest and oldest nodes.
std::pair<MailboxNode*, MailboxNode*> chain_of(int first, int count, int producer = 0) {
  MailboxNode* newest = nullptr;
  MailboxNode* oldest = nullptr;
  for (int v = first; v < first + count; ++v) {
    auto* item = new Item(v, producer);
    item->next = newest;
    newest = item;
    if (oldest == nullptr) oldest = item;
  }
  return {newest, oldest};
}

// Takes everything `producers` x `per_producer` items from `box` (values 0, 1, ... per
// producer), checking that each producer's arrive in order.
void expect_each_producers_order(Mailbox& box, int producers, int per_producer) {
  std::vector<int> next(static_cast<std::size_t>(producers), 0);
  int received = 0;
  while (received < producers * per_producer) {
    NodeList batch = box.take_all();
    while (!batch.empty()) {
      auto* item = static_cast<Item*>(batch.pop_front());
      ASSERT_EQ(item->value, next[static_cast<std::size_t>(item->producer)]) << "producer " << item->producer;
      ++next[static_cast<std::size_t>(item->producer)];
      ++received;
      delete item;
    }
  }
}

TEST(Mailbox, AChainArrivesInOrderBetweenWhatCameBeforeAndAfter) {
  Mailbox box;
  const auto [newest, oldest] = chain_of(2, 3);
  EXPECT_EQ(box.push_chain(newest, oldest), Mailbox::Push::QueuedWasIdle);  // wakes the owner once
  EXPECT_EQ(box.push(new Item(5)), Mailbox::Push::Queued);
  EXPECT_EQ(values(box.take_all()), (std::vector<int>{2, 3, 4, 5}));
  EXPECT_EQ(box.push(new Item(6)), Mailbox::Push::Queued);
  const auto [newest2, oldest2] = chain_of(7, 2);
  EXPECT_EQ(box.push_chain(newest2, oldest2), Mailbox::Push::Queued);
  EXPECT_EQ(values(box.take_all()), (std::vector<int>{6, 7, 8}));
}

TEST(Mailbox, AChainWakesAnIdleMailboxAfterWhatItHeldQuietly) {
  Mailbox box;
  EXPECT_EQ(box.push_quietly(new Item(1)), Mailbox::Push::Held);
  const auto [newest, oldest] = chain_of(2, 2);
  EXPECT_EQ(box.push_chain(newest, oldest), Mailbox::Push::QueuedWasIdle);
  EXPECT_EQ(values(box.take_all()), (std::vector<int>{1, 2, 3}));
}

TEST(Mailbox, AClosedMailboxGivesTheChainBackWhole) {
  Mailbox box;
  box.push(new Item(1));
  EXPECT_EQ(values(box.close()), (std::vector<int>{1}));
  const auto [newest, oldest] = chain_of(2, 3);
  EXPECT_EQ(box.push_chain(newest, oldest), Mailbox::Push::Closed);
  EXPECT_EQ(oldest->next, nullptr);
  EXPECT_EQ(values(NodeList::from_stack(newest)), (std::vector<int>{2, 3, 4}));
}

TEST(Mailbox, ChainsAndSinglePushesFromManyProducersKeepEachOnesOrder) {
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 200'000;
  Mailbox box;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p)
    producers.emplace_back([&box, p] {
      for (int i = 0; i < kPerProducer;) {
        if (i % 3 == 0) {  // a single push, then a chain of up to 5
          box.push(new Item(i++, p));
          continue;
        }
        const int count = std::min(5, kPerProducer - i);
        const auto [newest, oldest] = chain_of(i, count, p);
        box.push_chain(newest, oldest);
        i += count;
      }
    });
  expect_each_producers_order(box, kProducers, kPerProducer);
  for (auto& t : producers) t.join();
  EXPECT_TRUE(box.take_all().empty());
}

TEST(Mailbox, ManyProducersKeepTheirOrder) {
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 250'000;
  Mailbox box;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p)
    producers.emplace_back([&box, p] {
      for (int i = 0; i < kPerProducer; ++i) box.push(new Item(i, p));
    });
  expect_each_producers_order(box, kProducers, kPerProducer);
  for (auto& t : producers) t.join();
  EXPECT_TRUE(box.take_all().empty());
}

}  // namespace
}  // namespace spindle
