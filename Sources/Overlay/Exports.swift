/// The address types are part of this module's API (its records and operations carry them), so importing it
/// brings them along: callers use `IPAddress`, `IPv4Subnet`, … without a second import.
@_exported import Addressing
