#ifndef CDIGEST_H
#define CDIGEST_H

#include <stddef.h>
#include <stdint.h>

/// SHA-256 of `size` bytes at `bytes` into `digest`, in one call and without allocating: with
/// the CPU's SHA instructions where it has them (x86-64 SHA-NI), portable C otherwise.
void cdigest_sha256(const void *bytes, size_t size, uint8_t digest[32]);

/// The same in portable C only, whatever the CPU: for the tests, which compare both.
void cdigest_sha256_portable(const void *bytes, size_t size, uint8_t digest[32]);

/// Whether `cdigest_sha256` uses the CPU's SHA instructions on this machine.
int cdigest_sha256_uses_cpu_instructions(void);

#endif
