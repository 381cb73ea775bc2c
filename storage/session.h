// What every connection the platform opens sets first (pools and binary copies).
#ifndef CDP_STORAGE_SESSION_H_
#define CDP_STORAGE_SESSION_H_

namespace cdp::storage {

// A session setting: SET `name` = `value`.
struct SessionSetting {
  const char* name;
  const char* value;
};

// Its statements are short, and compiling one with JIT costs far more than running it. A
// golden-record read on tables autovacuum had not analysed yet took 490 ms, 460 of them
// JIT compiling, because the planner's guess of the rows crossed jit_above_cost.
inline constexpr SessionSetting kSessionSettings[] = {{"jit", "off"}};

}  // namespace cdp::storage

#endif  // CDP_STORAGE_SESSION_H_
