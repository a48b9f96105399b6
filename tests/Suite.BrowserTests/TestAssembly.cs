// Each test starts the whole suite as real processes, and a browser, on a 2-core machine: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
