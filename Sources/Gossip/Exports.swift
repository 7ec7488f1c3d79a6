/// Member addresses are `IPAddress` values, so importing Gossip brings the address types along.
@_exported import Addressing
