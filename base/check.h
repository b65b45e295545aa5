// Invariant assertions for chronik (TigerBeetle style: assert densely).
//
// CHRONIK_CHECK(cond) << "context";  crashes with file:line, the condition and
// the streamed message when `cond` is false, in every build mode (assertions
// are part of the program, not a debug aid). Use it for broken invariants only:
// environment and input errors are absl::Status, never a crash.
//
// CHRONIK_CHECK_EQ/NE/LT/LE/GT/GE(a, b) also print both values (they must be
// streamable). CHRONIK_DCHECK* compile away under NDEBUG, for checks on hot
// paths that would be too costly in -c opt. Thread-safe; no state.
#ifndef CHRONIK_BASE_CHECK_H_
#define CHRONIK_BASE_CHECK_H_

#include <sstream>
#include <string>

namespace chronik::internal {

// Collects the streamed message and aborts in its destructor.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  [[noreturn]] ~CheckFailure();
  std::ostream& stream() { return message_; }

 private:
  std::ostringstream message_;
};

// Lets `cond ? (void)0 : Voidify() & CheckFailure(...).stream() << ...`
// type-check.
struct Voidify {
  void operator&(std::ostream&) {}
};

template <typename A, typename B>
std::string FormatOperands(const A& a, const B& b) {
  std::ostringstream out;
  out << "(" << a << " vs " << b << ") ";
  return out.str();
}

}  // namespace chronik::internal

#define CHRONIK_CHECK(condition)                                              \
  (condition)                                                                 \
      ? (void)0                                                               \
      : ::chronik::internal::Voidify() &                                      \
            ::chronik::internal::CheckFailure(__FILE__, __LINE__, #condition) \
                .stream()

#define CHRONIK_CHECK_OP_(a, b, op)                                      \
  ((a)op(b)) ? (void)0                                                   \
             : ::chronik::internal::Voidify() &                          \
                   ::chronik::internal::CheckFailure(__FILE__, __LINE__, \
                                                     #a " " #op " " #b)  \
                           .stream()                                     \
                       << ::chronik::internal::FormatOperands((a), (b))

#define CHRONIK_CHECK_EQ(a, b) CHRONIK_CHECK_OP_(a, b, ==)
#define CHRONIK_CHECK_NE(a, b) CHRONIK_CHECK_OP_(a, b, !=)
#define CHRONIK_CHECK_LT(a, b) CHRONIK_CHECK_OP_(a, b, <)
#define CHRONIK_CHECK_LE(a, b) CHRONIK_CHECK_OP_(a, b, <=)
#define CHRONIK_CHECK_GT(a, b) CHRONIK_CHECK_OP_(a, b, >)
#define CHRONIK_CHECK_GE(a, b) CHRONIK_CHECK_OP_(a, b, >=)

#ifdef NDEBUG
#define CHRONIK_DCHECK(condition) \
  while (false) CHRONIK_CHECK(condition)
#define CHRONIK_DCHECK_EQ(a, b) \
  while (false) CHRONIK_CHECK_EQ(a, b)
#define CHRONIK_DCHECK_LE(a, b) \
  while (false) CHRONIK_CHECK_LE(a, b)
#define CHRONIK_DCHECK_LT(a, b) \
  while (false) CHRONIK_CHECK_LT(a, b)
#else
#define CHRONIK_DCHECK(condition) CHRONIK_CHECK(condition)
#define CHRONIK_DCHECK_EQ(a, b) CHRONIK_CHECK_EQ(a, b)
#define CHRONIK_DCHECK_LE(a, b) CHRONIK_CHECK_LE(a, b)
#define CHRONIK_DCHECK_LT(a, b) CHRONIK_CHECK_LT(a, b)
#endif

#endif  // CHRONIK_BASE_CHECK_H_
