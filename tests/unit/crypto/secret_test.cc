#include "crypto/secret.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>

namespace pgbr::crypto {
namespace {

// A Secret must not be printable: this is checked at compile time.
template <typename T>
concept Streamable = requires(std::ostream& out, const T& value) { out << value; };
static_assert(!Streamable<Secret>, "Secret must not be printable");
static_assert(!std::is_copy_constructible_v<Secret>, "Secret must not be copyable");

TEST(Secret, HoldsBytes) {
  Secret secret("pgbr-Test-Passphrase-42");
  EXPECT_EQ(secret.size(), 23u);
  EXPECT_EQ(secret.reveal(), "pgbr-Test-Passphrase-42");
  EXPECT_EQ(asText(secret.bytes()), "pgbr-Test-Passphrase-42");
}

TEST(Secret, AdoptWipesTheSource) {
  std::string source = "a passphrase long enough to live on the heap, not in SSO";
  const char* heap = source.data();
  const std::size_t size = source.size();
  Secret secret = Secret::adopt(source);
  EXPECT_TRUE(source.empty());
  for (std::size_t i = 0; i < size; i++) EXPECT_EQ(heap[i], '\0') << "byte " << i << " not wiped";
  EXPECT_EQ(secret.reveal(), "a passphrase long enough to live on the heap, not in SSO");
}

TEST(Secret, MoveLeavesSourceEmpty) {
  Secret a("first secret value");
  Secret b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_EQ(b.reveal(), "first secret value");
  Secret c("other");
  c = std::move(b);
  EXPECT_EQ(c.reveal(), "first secret value");
}

TEST(Secret, ComparesInConstantTime) {
  EXPECT_TRUE(Secret("abc") == Secret("abc"));
  EXPECT_FALSE(Secret("abc") == Secret("abd"));
  EXPECT_FALSE(Secret("abc") == Secret("abcd"));
}

TEST(Secret, WipeZeroesBuffers) {
  std::string text = "sensitive";
  Secret::wipe(text);
  EXPECT_TRUE(text.empty());
  unsigned char raw[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  Secret::wipe(raw, sizeof(raw));
  for (unsigned char c : raw) EXPECT_EQ(c, 0);
}

// The VmFlags of the mapping that holds `address`, from /proc/self/smaps ("rd wr mr mw me lo dd ..."), or "".
std::string vmFlagsOf(const void* address) {
  std::ifstream smaps("/proc/self/smaps");
  const auto where = reinterpret_cast<std::uintptr_t>(address);
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t from = 0, to = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> from >> dash >> to && dash == '-' && line.find(':') > line.find(' ')) {
      inside = where >= from && where < to;
    } else if (inside && line.starts_with("VmFlags:")) {
      return line;
    }
  }
  return "";
}

// AddressSanitizer replaces mlock with a no-op that reports success (it warns "ignores mlock"): the lock cannot be
// seen under ASan, only the don't-dump flag.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kMlockObservable = false;
#else
constexpr bool kMlockObservable = true;
#endif

TEST(Secret, LivesInLockedMemoryLeftOutOfCoreDumps) {
  for (const char* text : {"short", "pgbr-Test-Passphrase-42", "a sub-passphrase of sixty-four characters, as pgBackRest makes"}) {
    const std::size_t failuresBefore = lockedMemoryFailures();
    Secret secret(text);
    const std::string flags = vmFlagsOf(secret.reveal().data());
    ASSERT_FALSE(flags.empty()) << "no mapping found for the secret's bytes";
    EXPECT_NE(flags.find(" dd"), std::string::npos) << "not excluded from core dumps: " << flags;
    // mlock can fail only under RLIMIT_MEMLOCK without CAP_IPC_LOCK; then the failure is counted.
    if (kMlockObservable && lockedMemoryFailures() == failuresBefore) {
      EXPECT_NE(flags.find(" lo"), std::string::npos) << flags;
    }
    Secret moved(std::move(secret));
    EXPECT_EQ(vmFlagsOf(moved.reveal().data()), flags) << "a move must keep the bytes where they are";
  }
}

}  // namespace
}  // namespace pgbr::crypto
