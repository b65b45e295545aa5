// chronik-server entry point. Until the standalone broker lands (issue 7) it
// prints its version and says which modes are not implemented, exiting non-zero
// so no script mistakes it for a running broker.
#include <cstdio>
#include <cstring>

#include "broker/version.h"

int main(int argc, char** argv) {
  std::printf("chronik-server %s\n", chronik::kVersion);
  if (argc > 1 && (std::strcmp(argv[1], "--version") == 0)) return 0;
  const char* mode = argc > 1 ? argv[1] : "(none)";
  std::fprintf(stderr,
               "chronik-server: mode '%s' is not yet implemented "
               "(standalone and cluster modes are coming)\n",
               mode);
  return 2;
}
