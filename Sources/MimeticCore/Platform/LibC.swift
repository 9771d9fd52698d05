// The C library, for every file of the core: math (exp, tanh, erf...), stdio, errno, clocks.
//
// The core does not import Foundation: on Linux, Foundation brings ICU's data (about 34 MB) into
// every binary that links the core statically, for nothing the core needs. What Foundation gave
// us is replaced by small pieces of our own (JSON/, MonotonicClock, `formatted`).
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Musl)
@_exported import Musl
#elseif canImport(Darwin)
@_exported import Darwin
#elseif canImport(ucrt)
@_exported import ucrt
#endif
