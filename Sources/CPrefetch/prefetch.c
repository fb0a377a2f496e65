// The function is inline in the header, where Swift callers compile it in; SwiftPM builds a C
// target only from a source file.
#include "prefetch.h"
