// Turning C++ failures into JavaScript errors, without libtorch's backtraces.
#pragma once
#include "torch_pch.h"

#include <string>

namespace tt {

// libtorch's what() carries a C++ backtrace; JavaScript users want the message.
inline std::string MessageOf(const c10::Error& e) { return e.what_without_backtrace(); }

// Runs a synchronous binding body and rethrows any C++ exception as a JS Error,
// so that no input can take the process down with an uncaught exception.
template <typename F>
auto Guarded(Napi::Env env, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, MessageOf(e));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

inline Napi::TypeError TypeError(Napi::Env env, const std::string& message) {
  return Napi::TypeError::New(env, message);
}

}  // namespace tt
