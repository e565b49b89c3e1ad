// Lets Jazzer.js's addon sources (@jazzer.js/fuzzer 2.1.0, the last npm release that ships them) build
// against upstream libFuzzer as Debian packages it, and serve @jazzer.js/fuzzer 4.0.0's JavaScript
// (bin/install-fuzzer compiles it in; see test/fuzz/README.md).
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzzer/FuzzerDefs.h"
#include "shared/libfuzzer.h"

// The addon's own versions, renamed at compile time by bin/install-fuzzer and wrapped below.
void RegisterUpstreamCallbackExports(Napi::Env env, Napi::Object exports);
void StartUpstreamLibFuzzer(const std::vector<std::string> &args, fuzzer::UserCallback fuzzCallback);

extern "C" {
void __sanitizer_cov_8bit_counters_init(uint8_t *start, uint8_t *end);
void __sanitizer_cov_pcs_init(const uintptr_t *pcs_beg, const uintptr_t *pcs_end);
void __sanitizer_cov_trace_const_cmp8(uint64_t arg1, uint64_t arg2);
void __sanitizer_cov_trace_pc_indir(uintptr_t callee);
void __jazzer_set_death_callback(void (*callback)());

// Upstream libFuzzer hands its death callback (dump the crashing input, print the final stats) to this weak
// sanitizer hook; Jazzer's libFuzzer fork named it __jazzer_set_death_callback.
void __sanitizer_set_death_callback(void (*callback)()) { __jazzer_set_death_callback(callback); }

// The fork's "_with_pc" variants let JavaScript name the comparison site. Upstream takes the site from the
// return address, so every JavaScript comparison shares one site: the table of compared values that guides
// mutations works the same, only -use_value_profile=1 loses its per-site distinction.
void __sanitizer_cov_trace_const_cmp8_with_pc(uintptr_t, uint64_t arg1, uint64_t arg2) {
  __sanitizer_cov_trace_const_cmp8(arg1, arg2);
}
void __sanitizer_cov_trace_pc_indir_with_pc(void *, uintptr_t callee) { __sanitizer_cov_trace_pc_indir(callee); }
}

namespace {
// Fake PCs for module counters start past the shared coverage map's (at most 2^20 counters, PCs 0..2^20-1).
uintptr_t gNextModulePc = uintptr_t{1} << 20;

// @jazzer.js/fuzzer 4.0.0 gives each instrumented ES module its own counters buffer (kept alive by its caller).
void RegisterModuleCounters(const Napi::CallbackInfo &info) {
  if (info.Length() != 1 || !info[0].IsBuffer()) {
    throw Napi::Error::New(info.Env(), "registerModuleCounters needs one Buffer");
  }
  auto counters = info[0].As<Napi::Buffer<uint8_t>>();
  const std::size_t count = counters.Length();
  if (count == 0) return;
  // libFuzzer keeps pointers into both tables for the life of the process, so neither is ever freed.
  auto *pcs = new uintptr_t[2 * count];
  for (std::size_t i = 0; i < count; ++i) {
    pcs[2 * i] = gNextModulePc++;
    pcs[2 * i + 1] = 0;
  }
  __sanitizer_cov_8bit_counters_init(counters.Data(), counters.Data() + count);
  __sanitizer_cov_pcs_init(pcs, pcs + 2 * count);
}

fuzzer::UserCallback gAddonCallback = nullptr;

// The fork's libFuzzer ends its loop when the callback returns RETURN_EXIT (-2), which the addon returns once
// the JavaScript side has printed a finding and dumped the input; upstream libFuzzer would take it as "do not
// add to the corpus" and go on fuzzing. So that return ends the process here, with the finding exit code.
int EndProcessOnExitRequest(const uint8_t *data, std::size_t size) {
  const int result = gAddonCallback(data, size);
  if (result == libfuzzer::RETURN_EXIT) {
    std::fflush(nullptr);
    std::_Exit(libfuzzer::EXIT_ERROR_CODE);
  }
  return result;
}
} // namespace

void RegisterCallbackExports(Napi::Env env, Napi::Object exports) {
  RegisterUpstreamCallbackExports(env, exports);
  exports["registerModuleCounters"] = Napi::Function::New<RegisterModuleCounters>(env);
}

void StartLibFuzzer(const std::vector<std::string> &args, fuzzer::UserCallback fuzzCallback) {
  gAddonCallback = fuzzCallback;
  StartUpstreamLibFuzzer(args, EndProcessOnExitRequest);
}
