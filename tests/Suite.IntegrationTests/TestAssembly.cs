// The suites these tests start are real process trees; on a 2-core machine two of them at once (the plain "suite"
// and a chaos suite killing its workers) would slow each other into timeouts. One collection at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
