// Test data files compiled into the test binary (see embed_testdata.py):
// deterministic code and its tests read no files at run time.
#ifndef CHRONIK_BROKER_KAFKA_EMBEDDED_TESTDATA_H_
#define CHRONIK_BROKER_KAFKA_EMBEDDED_TESTDATA_H_

#include "absl/strings/string_view.h"

namespace chronik::kafka {

struct EmbeddedFile {
  const char* name;  // base name, e.g. "kcat-gzip-produce-v7.bin"
  absl::string_view bytes;
};

extern const EmbeddedFile kEmbeddedFiles[];
extern const int kEmbeddedFileCount;

}  // namespace chronik::kafka

#endif  // CHRONIK_BROKER_KAFKA_EMBEDDED_TESTDATA_H_
