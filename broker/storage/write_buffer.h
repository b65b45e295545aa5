// WriteBuffer: the bytes a GroupLog appended to its active segment and has not
// written to the file yet.
//
// What it is for: a large payload should go from the Raft entry's shared
// buffer to the file with no copy in user space. The buffer holds its own
// bytes (record headers, the first bytes of a batch that get its base offset,
// small payloads), and between them parts of shared payload buffers, spliced
// in without a copy; WriteTo hands the whole sequence to File::AppendV
// (pwritev in production) as one write.
//
// The bytes, in order: owned()[0, s0.at), s0's part, owned()[s0.at, s1.at),
// s1's part, ..., owned()[last.at, end), where s0, s1, ... are the splices in
// the order they were made and `at` is owned().size() when each was made.
// Callers build records in owned() (format::BeginRecord and SealRecord work
// on it) and may only append to it.
//
// Ownership: each splice keeps its part's buffer alive until the buffer is
// written or cleared; callers bound how long that is (GroupLog writes at
// write_buffer_bytes and at every sync). Thread-safety: none.
#ifndef CHRONIK_BROKER_STORAGE_WRITE_BUFFER_H_
#define CHRONIK_BROKER_STORAGE_WRITE_BUFFER_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "base/shared_bytes.h"
#include "broker/env/disk.h"

namespace chronik::storage {

class WriteBuffer {
 public:
  // The buffer's own bytes; append only (a splice point never moves).
  std::string& owned() { return owned_; }
  const std::string& owned() const { return owned_; }

  // Puts `part` of `keep_alive`'s buffer after the bytes buffered so far,
  // without copying it.
  void Splice(SharedBytes keep_alive, absl::string_view part);

  size_t size() const { return owned_.size() + spliced_bytes_; }
  bool empty() const { return size() == 0; }
  // Bytes spliced in since the buffer was last empty.
  size_t spliced_bytes() const { return spliced_bytes_; }

  // Appends every buffered byte to `file` in one File::AppendV and empties
  // the buffer; on an error the buffer keeps its bytes.
  absl::Status WriteTo(env::File& file);
  void Clear();

 private:
  // The bytes in order: owned runs with the spliced parts between them.
  std::vector<absl::string_view> Pieces() const;

  struct Spliced {
    size_t at = 0;  // owned_.size() when spliced
    SharedBytes keep_alive;
    absl::string_view part;
  };
  std::string owned_;
  std::vector<Spliced> spliced_;
  size_t spliced_bytes_ = 0;
};

}  // namespace chronik::storage

#endif  // CHRONIK_BROKER_STORAGE_WRITE_BUFFER_H_
