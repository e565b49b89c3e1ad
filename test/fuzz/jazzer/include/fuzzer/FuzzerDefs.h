// The two declarations Jazzer.js's addon takes from libFuzzer's internal FuzzerDefs.h, which Debian's
// libclang-rt package does not ship (the functions are in its libclang_rt.fuzzer_no_main archive).
#pragma once
#include <cstddef>
#include <cstdint>

namespace fuzzer {
typedef int (*UserCallback)(const uint8_t *Data, size_t Size);
int FuzzerDriver(int *argc, char ***argv, UserCallback Callback);
} // namespace fuzzer
