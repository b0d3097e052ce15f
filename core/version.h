/* core/version.h — the hashlab version string, recorded in checkpoints and result files.
 * CMake defines HASHLAB_VERSION from project(VERSION ...) for every target; the fallback is for hand builds. */
#ifndef HL_VERSION_H
#define HL_VERSION_H

#ifndef HASHLAB_VERSION
#define HASHLAB_VERSION "0.1.0-unknown"
#endif

#endif
