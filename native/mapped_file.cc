#include "mapped_file.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#ifndef _WIN32
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "addon_data.h"
#include "async_call.h"
#include "dtype.h"
#include "errors.h"
#include "tensor.h"

namespace tt {

class Mapping {
 public:
  Mapping(void* base, size_t size) : base_(static_cast<uint8_t*>(base)), size_(size) {}
  ~Mapping() {
#ifndef _WIN32
    munmap(base_, size_);
#endif
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  uint8_t* base() const { return base_; }
  size_t size() const { return size_; }

 private:
  uint8_t* base_;
  size_t size_;
};

namespace {

std::string SystemError(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

std::shared_ptr<Mapping> Map(const std::string& path) {
#ifdef _WIN32
  // Windows maps files with other calls (CreateFileMapping); until they are
  // bound, the caller's fallback reads the file into memory.
  throw std::runtime_error("cannot map " + path + ": not supported on this platform");
#else
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(SystemError("cannot open", path));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const std::string message = SystemError("cannot stat", path);
    close(fd);
    throw std::runtime_error(message);
  }
  if (!S_ISREG(st.st_mode) || st.st_size <= 0) {
    close(fd);
    throw std::runtime_error("cannot map " + path + ": not a non-empty regular file");
  }
  // Private and writable, as torch.load(mmap=True) maps by default: a tensor
  // changed in place gets its own copy of the page and the file stays as it was.
  void* base = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  const std::string message = base == MAP_FAILED ? SystemError("cannot map", path) : std::string();
  close(fd);  // the mapping keeps the file's pages; no descriptor stays open
  if (base == MAP_FAILED) throw std::runtime_error(message);
  return std::make_shared<Mapping>(base, static_cast<size_t>(st.st_size));
#endif
}

std::vector<int64_t> IntsFrom(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsArray()) throw TypeError(env, std::string("Expected an array of integers for ") + what);
  Napi::Array array = value.As<Napi::Array>();
  std::vector<int64_t> out(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value v = array.Get(i);
    if (!v.IsNumber()) throw TypeError(env, std::string("Expected an array of integers for ") + what);
    out[i] = v.As<Napi::Number>().Int64Value();
  }
  return out;
}

int64_t IntFrom(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsNumber()) throw TypeError(env, std::string("Expected an integer for ") + what);
  return value.As<Napi::Number>().Int64Value();
}

}  // namespace

Napi::Function MappedFileWrap::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "MappedFile",
                                    {
                                        InstanceAccessor<&MappedFileWrap::ByteLength>("byteLength"),
                                        InstanceMethod<&MappedFileWrap::Bytes>("bytes"),
                                        InstanceMethod<&MappedFileWrap::Tensor>("tensor"),
                                        InstanceMethod<&MappedFileWrap::Close>("close"),
                                    });
  DataOf(env).mappedFileConstructor = Napi::Persistent(ctor);
  return ctor;
}

MappedFileWrap::MappedFileWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MappedFileWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) throw TypeError(info.Env(), "MappedFiles are made by mapFile()");
  mapping_ = *info[0].As<Napi::External<std::shared_ptr<Mapping>>>().Data();
}

const std::shared_ptr<Mapping>& MappedFileWrap::Live(Napi::Env env) {
  if (!mapping_) throw Napi::Error::New(env, "MappedFile has been closed");
  return mapping_;
}

Napi::Value MappedFileWrap::ByteLength(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Live(info.Env())->size()));
}

// One Uint8Array over the whole mapping, for the parsers to read headers and
// pickles from. close() detaches it, so no JavaScript view can outlive the map.
Napi::Value MappedFileWrap::Bytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::shared_ptr<Mapping>& mapping = Live(env);
  if (bytes_.IsEmpty()) {
    bytesOwner_ = new std::shared_ptr<Mapping>(mapping);
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
        env, mapping->base(), mapping->size(), [](Napi::Env, void*, std::shared_ptr<Mapping>* owner) { delete owner; },
        bytesOwner_);
    bytes_ = Napi::Persistent(buffer);
  }
  return Napi::Uint8Array::New(env, Live(env)->size(), bytes_.Value(), 0);
}

// tensor(byteOffset, byteLength, dtype, shape, strides, storageOffset): the view
// of a storage that starts byteOffset bytes into the file, over the mapping.
// A storage not aligned to its element size (no torch.save file has one, but
// other writers may) is copied, since kernels may assume aligned elements.
Napi::Value MappedFileWrap::Tensor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<Mapping> mapping = Live(env);
  const int64_t byteOffset = IntFrom(env, info[0], "byteOffset");
  const int64_t byteLength = IntFrom(env, info[1], "byteLength");
  if (!info[2].IsString()) throw TypeError(env, "Expected a string for dtype");
  std::vector<int64_t> shape = IntsFrom(env, info[3], "shape");
  std::vector<int64_t> strides = IntsFrom(env, info[4], "strides");
  const int64_t offset = IntFrom(env, info[5], "storageOffset");
  return Guarded(env, [&]() -> Napi::Value {
    const c10::ScalarType dtype = DtypeFromName(info[2].As<Napi::String>().Utf8Value());
    if (shape.size() != strides.size()) throw std::invalid_argument("shape and strides differ in length");
    if (byteOffset < 0 || byteLength < 0 || static_cast<uint64_t>(byteOffset) + static_cast<uint64_t>(byteLength) > mapping->size()) {
      throw std::out_of_range("storage of " + std::to_string(byteLength) + " bytes at " + std::to_string(byteOffset) +
                              " is outside the mapped file (" + std::to_string(mapping->size()) + " bytes)");
    }
    const int64_t elementSize = static_cast<int64_t>(c10::elementSize(dtype));
    const int64_t storageNumel = byteLength / elementSize;
    int64_t numel = 1;
    int64_t last = offset;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] < 0 || strides[i] < 0) throw std::invalid_argument("negative dimension or stride");
      numel *= shape[i];
      last += (shape[i] - 1) * strides[i];
    }
    const auto options = torch::TensorOptions().dtype(dtype);
    if (numel == 0) return TensorWrap::Wrap(env, torch::empty(shape, options));
    if (offset < 0 || last >= storageNumel) throw std::out_of_range("storage is too short for the tensor's shape and offset");
    uint8_t* data = mapping->base() + byteOffset;
    if (reinterpret_cast<uintptr_t>(data) % static_cast<uintptr_t>(elementSize) != 0) {
      torch::Tensor storage = torch::from_blob(data, {storageNumel}, options);
      return TensorWrap::Wrap(env, storage.as_strided(shape, strides, offset).clone(at::MemoryFormat::Contiguous));
    }
    torch::Tensor storage = torch::from_blob(data, {storageNumel}, [mapping](void*) mutable { mapping.reset(); }, options);
    return TensorWrap::Wrap(env, storage.as_strided(shape, strides, offset));
  });
}

Napi::Value MappedFileWrap::Close(const Napi::CallbackInfo& info) {
  if (!bytes_.IsEmpty()) {
    Napi::ArrayBuffer buffer = bytes_.Value();
    if (!buffer.IsDetached()) buffer.Detach();
    bytes_.Reset();
    bytesOwner_->reset();  // the finalizer, when the GC runs it, frees an empty pointer
    bytesOwner_ = nullptr;
  }
  mapping_.reset();
  return info.Env().Undefined();
}

Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw TypeError(env, "Expected a string for path");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  return RunAsync<std::shared_ptr<Mapping>>(
      env, false, [path]() { return Map(path); },
      [](Napi::Env env, std::shared_ptr<Mapping>& mapping) -> Napi::Value {
        auto* holder = new std::shared_ptr<Mapping>(mapping);
        Napi::External<std::shared_ptr<Mapping>> external = Napi::External<std::shared_ptr<Mapping>>::New(env, holder);
        Napi::Object object = DataOf(env).mappedFileConstructor.New({external});
        delete holder;
        return object;
      });
}

}  // namespace tt
