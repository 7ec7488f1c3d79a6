/// A failure of the end-to-end harness itself (a command that failed, a wait that ran out), with enough
/// context in its text to debug the run from the test log alone.
struct HarnessError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
