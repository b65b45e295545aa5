#include "broker/kafka/compression.h"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/wire.h"

namespace chronik::kafka {
namespace {

// Output grows by at least this many bytes (and at least doubles) while
// streaming decompressors run; each step may reach one byte past the cap, which
// detects an overflow without failing output that is exactly max_output_bytes
// long.
constexpr size_t kDecompressChunkBytes = 64 * 1024;

// xerial snappy framing: 8 magic bytes, int32 version, int32 compatible
// version, then (int32 size, raw block) pairs. Java writes 32 KiB blocks.
constexpr char kXerialMagic[] = "\x82SNAPPY\x00";
constexpr size_t kXerialMagicBytes = 8;
constexpr size_t kXerialHeaderBytes = 16;
constexpr size_t kXerialBlockBytes = 32 * 1024;

absl::Status TooLarge(Compression codec, size_t max_output_bytes) {
  return absl::ResourceExhaustedError(
      absl::StrCat(CompressionName(codec), ": decompressed size exceeds ",
                   max_output_bytes, " bytes"));
}

absl::Status Corrupt(Compression codec, absl::string_view detail) {
  return absl::DataLossError(
      absl::StrCat(CompressionName(codec), ": corrupt input: ", detail));
}

absl::StatusOr<std::string> GzipCompress(absl::string_view input) {
  z_stream z{};
  // windowBits 15 + 16 selects the gzip wrapper.
  CHRONIK_CHECK_EQ(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16,
                                8, Z_DEFAULT_STRATEGY),
                   Z_OK);
  std::string out(deflateBound(&z, input.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  z.avail_in = static_cast<uInt>(input.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const size_t produced = z.total_out;
  deflateEnd(&z);
  CHRONIK_CHECK_EQ(rc, Z_STREAM_END) << "deflateBound was too small";
  out.resize(produced);
  return out;
}

absl::StatusOr<std::string> GzipDecompress(absl::string_view input,
                                           size_t max_output_bytes) {
  z_stream z{};
  // windowBits 15 + 32: accept gzip or zlib headers.
  CHRONIK_CHECK_EQ(inflateInit2(&z, 15 + 32), Z_OK);
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  z.avail_in = static_cast<uInt>(input.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    const size_t before = out.size();
    const size_t grow = std::min(std::max(kDecompressChunkBytes, before),
                                 max_output_bytes - before + 1);
    out.resize(before + grow);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + before);
    z.avail_out = static_cast<uInt>(grow);
    rc = inflate(&z, Z_NO_FLUSH);
    out.resize(before + grow - z.avail_out);
    if (out.size() > max_output_bytes) {
      inflateEnd(&z);
      return TooLarge(Compression::kGzip, max_output_bytes);
    }
    if (rc == Z_BUF_ERROR && z.avail_in == 0) {
      inflateEnd(&z);
      return Corrupt(Compression::kGzip, "stream ends early");
    }
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      inflateEnd(&z);
      return Corrupt(Compression::kGzip, z.msg != nullptr ? z.msg : "inflate");
    }
  }
  inflateEnd(&z);
  return out;
}

absl::StatusOr<std::string> SnappyCompress(absl::string_view input) {
  std::string out(kXerialMagic, kXerialMagicBytes);
  char header[8];
  StoreBigEndian32(header, 1);      // version
  StoreBigEndian32(header + 4, 1);  // compatible version
  out.append(header, 8);
  for (size_t at = 0; at < input.size(); at += kXerialBlockBytes) {
    std::string block;
    snappy::Compress(input.data() + at,
                     std::min(kXerialBlockBytes, input.size() - at), &block);
    char size[4];
    StoreBigEndian32(size, static_cast<uint32_t>(block.size()));
    out.append(size, 4);
    out += block;
  }
  return out;
}

absl::Status SnappyRawAppend(absl::string_view block, size_t max_output_bytes,
                             std::string* out) {
  size_t length = 0;
  if (!snappy::GetUncompressedLength(block.data(), block.size(), &length)) {
    return Corrupt(Compression::kSnappy, "bad block header");
  }
  if (length > max_output_bytes - out->size()) {
    return TooLarge(Compression::kSnappy, max_output_bytes);
  }
  const size_t before = out->size();
  out->resize(before + length);
  if (!snappy::RawUncompress(block.data(), block.size(),
                             out->data() + before)) {
    return Corrupt(Compression::kSnappy, "bad block");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SnappyDecompress(absl::string_view input,
                                             size_t max_output_bytes) {
  std::string out;
  if (input.size() < kXerialHeaderBytes ||
      input.substr(0, kXerialMagicBytes) !=
          absl::string_view(kXerialMagic, kXerialMagicBytes)) {
    absl::Status status = SnappyRawAppend(input, max_output_bytes, &out);
    if (!status.ok()) return status;
    return out;
  }
  Reader r(input.substr(kXerialHeaderBytes));
  r.Field("snappy block");
  while (!r.at_end()) {
    const uint32_t size = r.ReadUint32();
    absl::string_view block = r.ReadRaw(size);
    if (!r.ok()) return Corrupt(Compression::kSnappy, r.status().message());
    absl::Status status = SnappyRawAppend(block, max_output_bytes, &out);
    if (!status.ok()) return status;
  }
  return out;
}

absl::StatusOr<std::string> Lz4Compress(absl::string_view input) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.contentSize = input.size();
  std::string out(LZ4F_compressFrameBound(input.size(), &prefs), '\0');
  const size_t n = LZ4F_compressFrame(out.data(), out.size(), input.data(),
                                      input.size(), &prefs);
  CHRONIK_CHECK(!LZ4F_isError(n)) << LZ4F_getErrorName(n);
  out.resize(n);
  return out;
}

struct Lz4ContextDeleter {
  void operator()(LZ4F_dctx* ctx) const { LZ4F_freeDecompressionContext(ctx); }
};

absl::StatusOr<std::string> Lz4Decompress(absl::string_view input,
                                          size_t max_output_bytes) {
  LZ4F_dctx* raw = nullptr;
  CHRONIK_CHECK(
      !LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION)));
  std::unique_ptr<LZ4F_dctx, Lz4ContextDeleter> ctx(raw);
  std::string out;
  size_t at = 0;
  size_t hint = 1;
  while (at < input.size()) {
    const size_t before = out.size();
    size_t grow = std::min(std::max(kDecompressChunkBytes, before),
                           max_output_bytes - before + 1);
    out.resize(before + grow);
    size_t consumed = input.size() - at;
    hint = LZ4F_decompress(ctx.get(), out.data() + before, &grow,
                           input.data() + at, &consumed, nullptr);
    if (LZ4F_isError(hint)) {
      return Corrupt(Compression::kLz4, LZ4F_getErrorName(hint));
    }
    out.resize(before + grow);
    if (out.size() > max_output_bytes) {
      return TooLarge(Compression::kLz4, max_output_bytes);
    }
    at += consumed;
    if (consumed == 0 && grow == 0) break;
  }
  // Flush output still buffered inside the context.
  while (hint != 0) {
    const size_t before = out.size();
    size_t grow = std::min(std::max(kDecompressChunkBytes, before),
                           max_output_bytes - before + 1);
    out.resize(before + grow);
    size_t consumed = 0;
    hint = LZ4F_decompress(ctx.get(), out.data() + before, &grow, nullptr,
                           &consumed, nullptr);
    if (LZ4F_isError(hint)) {
      return Corrupt(Compression::kLz4, LZ4F_getErrorName(hint));
    }
    out.resize(before + grow);
    if (out.size() > max_output_bytes) {
      return TooLarge(Compression::kLz4, max_output_bytes);
    }
    if (grow == 0) {
      return Corrupt(Compression::kLz4, "frame ends early");
    }
  }
  return out;
}

absl::StatusOr<std::string> ZstdCompress(absl::string_view input) {
  std::string out(ZSTD_compressBound(input.size()), '\0');
  const size_t n =
      ZSTD_compress(out.data(), out.size(), input.data(), input.size(), 3);
  CHRONIK_CHECK(!ZSTD_isError(n)) << ZSTD_getErrorName(n);
  out.resize(n);
  return out;
}

struct ZstdContextDeleter {
  void operator()(ZSTD_DStream* s) const { ZSTD_freeDStream(s); }
};

absl::StatusOr<std::string> ZstdDecompress(absl::string_view input,
                                           size_t max_output_bytes) {
  // One frame that declares its size (what ZSTD_compress writes): decompress
  // in one call into an exactly sized buffer.
  const unsigned long long declared =
      ZSTD_getFrameContentSize(input.data(), input.size());
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN &&
      declared != ZSTD_CONTENTSIZE_ERROR &&
      ZSTD_findFrameCompressedSize(input.data(), input.size()) ==
          input.size()) {
    if (declared > max_output_bytes) {
      return TooLarge(Compression::kZstd, max_output_bytes);
    }
    std::string out(static_cast<size_t>(declared), '\0');
    const size_t n =
        ZSTD_decompress(out.data(), out.size(), input.data(), input.size());
    if (ZSTD_isError(n))
      return Corrupt(Compression::kZstd, ZSTD_getErrorName(n));
    if (n != out.size()) return Corrupt(Compression::kZstd, "size mismatch");
    return out;
  }
  std::unique_ptr<ZSTD_DStream, ZstdContextDeleter> stream(
      ZSTD_createDStream());
  CHRONIK_CHECK(stream != nullptr);
  ZSTD_initDStream(stream.get());
  std::string out;
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  size_t last = 1;
  while (in.pos < in.size || last != 0) {
    const size_t before = out.size();
    const size_t grow = std::min(std::max(kDecompressChunkBytes, before),
                                 max_output_bytes - before + 1);
    out.resize(before + grow);
    ZSTD_outBuffer o{out.data() + before, grow, 0};
    const size_t in_before = in.pos;
    last = ZSTD_decompressStream(stream.get(), &o, &in);
    if (ZSTD_isError(last)) {
      return Corrupt(Compression::kZstd, ZSTD_getErrorName(last));
    }
    out.resize(before + o.pos);
    if (out.size() > max_output_bytes) {
      return TooLarge(Compression::kZstd, max_output_bytes);
    }
    if (o.pos == 0 && in.pos == in_before) {
      return Corrupt(Compression::kZstd, "frame ends early");
    }
  }
  return out;
}

}  // namespace

const char* CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kSnappy:
      return "snappy";
    case Compression::kLz4:
      return "lz4";
    case Compression::kZstd:
      return "zstd";
  }
  return "unknown";
}

absl::StatusOr<std::string> Compress(Compression codec,
                                     absl::string_view input) {
  switch (codec) {
    case Compression::kNone:
      return std::string(input);
    case Compression::kGzip:
      return GzipCompress(input);
    case Compression::kSnappy:
      return SnappyCompress(input);
    case Compression::kLz4:
      return Lz4Compress(input);
    case Compression::kZstd:
      return ZstdCompress(input);
  }
  return absl::UnimplementedError(
      absl::StrCat("unknown compression codec ", static_cast<int>(codec)));
}

absl::StatusOr<std::string> Decompress(Compression codec,
                                       absl::string_view input,
                                       size_t max_output_bytes) {
  switch (codec) {
    case Compression::kNone:
      if (input.size() > max_output_bytes) {
        return TooLarge(codec, max_output_bytes);
      }
      return std::string(input);
    case Compression::kGzip:
      return GzipDecompress(input, max_output_bytes);
    case Compression::kSnappy:
      return SnappyDecompress(input, max_output_bytes);
    case Compression::kLz4:
      return Lz4Decompress(input, max_output_bytes);
    case Compression::kZstd:
      return ZstdDecompress(input, max_output_bytes);
  }
  return absl::UnimplementedError(
      absl::StrCat("unknown compression codec ", static_cast<int>(codec)));
}

}  // namespace chronik::kafka
