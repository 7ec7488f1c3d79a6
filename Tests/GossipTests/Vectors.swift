import Gossip
import TestSupport

/// `shared/reference/memberlist-vectors.txt`, produced by Debian's go-msgpack 0.5.5 with memberlist's struct
/// shapes, embedded so the tests do not depend on the file. `ReferenceFileTests` checks the two agree.
enum Vectors {
    static let ping =
        "0085a44e6f6465a66e6f64652d62a55365714e6f07aa536f7572636541646472a40a000001aa536f757263654e6f6465a66e6f64652d61aa536f75726365506f7274cd1f0a"
    static let pingNoSource = "0082a44e6f6465a66e6f64652d62a55365714e6f07"
    static let indirectPing =
        "0188a44e61636bc3a44e6f6465a66e6f64652d63a4506f7274cd1f0aa55365714e6f09aa536f7572636541646472a40a000001aa536f757263654e6f6465a66e6f64652d61aa536f75726365506f7274cd1f0aa6546172676574a40a000002"
    static let ackNil = "0282a75061796c6f6164c0a55365714e6f07"
    static let ackEmpty = "0282a75061796c6f6164a0a55365714e6f07"
    static let suspect = "0383a446726f6da66e6f64652d61ab496e6361726e6174696f6e03a44e6f6465a66e6f64652d62"
    static let alive =
        "0486a441646472a40a000001ab496e6361726e6174696f6e01a44d657461acff81a4726f6c65a476746570a44e6f6465a66e6f64652d61a4506f7274cd1f0aa356736ea6010502020505"
    static let aliveNilMeta =
        "0486a441646472a40a000001ab496e6361726e6174696f6e01a44d657461c0a44e6f6465a66e6f64652d61a4506f7274cd1f0aa356736ea6010502020505"
    static let deadLeave = "0583a446726f6da66e6f64652d61ab496e6361726e6174696f6e02a44e6f6465a66e6f64652d61"
    static let nack = "0b81a55365714e6f09"
    static let err = "0d81a54572726f72a4626f6f6d"
    static let pushPullHeader = "0683a44a6f696ec3a54e6f64657301ac5573657253746174654c656ecd012c"
    static let pushNodeState =
        "87a441646472a40a000001ab496e6361726e6174696f6e01a44d657461acff81a4726f6c65a476746570a44e616d65a66e6f64652d61a4506f7274cd1f0aa5537461746500a356736ea6010502020505"
    static let userMsgHeader = "0881aa557365724d73674c656e05"
    /// The file's "40B []byte field" line is cut short after `a7 "Paylo"`: it is only a prefix.
    static let fortyBytePrefix = "0282a75061796c6f"
    static let compound =
        "0702004500270085a44e6f6465a66e6f64652d62a55365714e6f07aa536f7572636541646472a40a000001aa536f757263654e6f6465a66e6f64652d61aa536f75726365506f7274cd1f0a0383a446726f6da66e6f64652d61ab496e6361726e6174696f6e03a44e6f6465a66e6f64652d62"
    static let crcCompound =
        "0cb9514ca50702004500270085a44e6f6465a66e6f64652d62a55365714e6f07aa536f7572636541646472a40a000001aa536f757263654e6f6465a66e6f64652d61aa536f75726365506f7274cd1f0a0383a446726f6da66e6f64652d61ab496e6361726e6174696f6e03a44e6f6465a66e6f64652d62"
    static let lzwAlive =
        "0009182215840c1939a4140000106055123763c2c87113864e9a376e02906a52864e1856ff029192f3864d195276e8948143cac91b32654cb97959a645185250dec8a1d3ec83825156e6b83115a0800001050a0404"
    static let compressAlive =
        "0982a4416c676f00a3427566da00550009182215840c1939a4140000106055123763c2c87113864e9a376e02906a52864e1856ff029192f3864d195276e8948143cac91b32654cb97959a645185250dec8a1d3ec83825156e6b83115a0800001050a0404"
    static let lzwToBeOrNot = "00a93c1152e48914274fa80824687061c183090302"
    static let gcmKey = "30313233343536373839616263646566"
    static let gcmNonce = "000102030405060708090a0b"
    static let gcmPlaintext = "0081a55365714e6f01"
    static let udpNoLabel = "01000102030405060708090a0bfdbe614e7b057559e91d3a2c5050118878018054e54aad2b7c"
    static let udpLabelX = "01000102030405060708090a0bfdbe614e7b057559e9fb525e39efef591578086330803bf08c"
    static let tcpNoLabel = "0a0000002601000102030405060708090a0bfdbe614e7b057559e95db60c2dadaf5c22e3b07a8c9181acb6"

    /// The file's line names mapped to the embedded hex.
    static let byFileName: [String: String] = [
        "ping": ping, "ping(no source)": pingNoSource, "indirectPing": indirectPing, "ack(nil)": ackNil,
        "ack(empty)": ackEmpty, "suspect": suspect, "alive": alive, "alive(nilmeta)": aliveNilMeta,
        "dead(leave)": deadLeave, "nack": nack, "err": err, "pushPullHeader": pushPullHeader,
        "pushNodeState": pushNodeState, "userMsgHeader": userMsgHeader, "40B []byte field": fortyBytePrefix,
        "compound": compound, "crc+compound": crcCompound, "lzw(alive)": lzwAlive, "compress(alive)": compressAlive,
        "lzw(TOBEORNOT..)": lzwToBeOrNot, "udp v1 noLabel": udpNoLabel, "udp v1 label=x": udpLabelX,
        "tcp v1 noLabel": tcpNoLabel,
    ]

    // The structs the vectors encode.
    static let addrA: [UInt8] = [10, 0, 0, 1]
    static let meta: [UInt8] = hex("ff81a4726f6c65a476746570")
    static let vsn: [UInt8] = [1, 5, 2, 2, 5, 5]
    static let pingValue = Ping(seqNo: 7, node: "node-b", sourceAddr: addrA, sourcePort: 7946, sourceNode: "node-a")
    static let suspectValue = Suspect(incarnation: 3, node: "node-b", from: "node-a")
    static let aliveValue = Alive(incarnation: 1, node: "node-a", addr: addrA, port: 7946, meta: meta, vsn: vsn)

    /// Go's fuller encodings, generated here with Debian's go-msgpack 0.5.5 (golang-github-hashicorp-go-msgpack-dev).
    /// `ackResp{SeqNo: 7, Payload: 40 × 'A'}`, type byte added: the whole of the file's truncated 40-byte line.
    static let ackFortyBytes =
        "0282a75061796c6f6164da002841414141414141414141414141414141414141414141414141414141414141414141414141414141a55365714e6f07"
    /// `pushPullHeader{Nodes: 200, UserStateLen: 70000, Join: false}`: Go `int`s take unsigned forms.
    static let pushPullHeader200 = "0683a44a6f696ec2a54e6f646573ccc8ac5573657253746174654c656ece00011170"
    /// `pushNodeState{Name: "n", Addr: []byte{}, Incarnation: max, State: 3}`, Meta and Vsn nil: Go writes a
    /// non-nil empty slice as `a0`.
    static let pushNodeStateEdges =
        "87a441646472a0ab496e6361726e6174696f6eceffffffffa44d657461c0a44e616d65a16ea4506f727400a5537461746503a356736ec0"
}

/// The deterministic byte generator used to produce the Go LZW reference cases (a 64-bit LCG).
func generatedBytes(count: Int, alphabet: UInt64, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8((state >> 33) % alphabet)
    }
}
