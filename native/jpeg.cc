#include "jpeg.h"

#include <algorithm>
#include <stdexcept>

#ifdef TT_WITH_JPEG
#include <csetjmp>
#include <cstdio>
#include <jpeglib.h>
#include <jerror.h>
#endif

namespace tt {

bool LooksLikeJpeg(const uint8_t* data, size_t size) {
  return size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
}

#ifndef TT_WITH_JPEG

bool JpegAvailable() { return false; }
bool DecodeJpeg(const uint8_t*, size_t, DecodedImage&) { return false; }

#else

bool JpegAvailable() { return true; }

namespace {

// libjpeg reports fatal errors by calling error_exit, which must not return:
// jump back to DecodeJpeg, which turns the message into an exception. No C++
// object lives in the frames the jump skips (they are libjpeg's C frames).
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void OnError(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings are ignored as PIL ignores them ("extraneous bytes" and the like),
// except running out of data, which PIL refuses as a truncated file.
void OnMessage(j_common_ptr cinfo, int level) {
  if (level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
    auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, err->message);
    std::longjmp(err->jump, 1);
  }
}

// Called as libjpeg reads each scan; refuses a file that never stops adding them.
void OnProgress(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number > kMaxJpegScans) {
    auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
    std::snprintf(err->message, sizeof err->message, "more than %d scans", kMaxJpegScans);
    std::longjmp(err->jump, 1);
  }
}

}  // namespace

bool DecodeJpeg(const uint8_t* data, size_t size, DecodedImage& out) {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = OnError;
  err.pub.emit_message = OnMessage;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    throw std::runtime_error(err.message);
  }
  jpeg_progress_mgr progress{};
  progress.progress_monitor = OnProgress;
  jpeg_create_decompress(&cinfo);
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  const uint64_t pixels = static_cast<uint64_t>(cinfo.image_width) * cinfo.image_height;
  if (pixels > kMaxImagePixels) {
    std::snprintf(err.message, sizeof err.message, "image of %ux%u pixels is over the limit of %llu (PIL's decompression bomb limit)",
                  static_cast<unsigned>(cinfo.image_width), static_cast<unsigned>(cinfo.image_height),
                  static_cast<unsigned long long>(kMaxImagePixels));
    jpeg_destroy_decompress(&cinfo);
    throw std::runtime_error(err.message);
  }
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  const size_t rowBytes = static_cast<size_t>(cinfo.output_width) * 3;
  // `out` is the caller's, so it is safe across the jump and frees what it holds.
  try {
    out.pixels = PixelBuffer::Allocate(rowBytes * cinfo.output_height);
  } catch (...) {
    jpeg_destroy_decompress(&cinfo);
    throw;
  }
  out.width = static_cast<int>(cinfo.output_width);
  out.height = static_cast<int>(cinfo.output_height);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW rows[4];
    const JDIMENSION next = cinfo.output_scanline;
    for (int i = 0; i < 4; ++i) {
      rows[i] = out.pixels.data.get() + rowBytes * std::min<JDIMENSION>(next + i, cinfo.output_height - 1);
    }
    jpeg_read_scanlines(&cinfo, rows, std::min<JDIMENSION>(4, cinfo.output_height - next));
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

#endif

}  // namespace tt
