using IngestService.Catalog;
using Microsoft.Data.Sqlite;

namespace IngestService.Tests;

/// <summary>Every list and lookup query of the catalog uses an index (Req DB-5), checked on the real schema.</summary>
[Collection("ingest")]
public sealed class CatalogIndexTests(IngestFixture fixture)
{
    public static TheoryData<string, string> Queries => new()
    {
        { nameof(CatalogSql.SelectDocument), CatalogSql.SelectDocument },
        { nameof(CatalogSql.SelectTraceParent), CatalogSql.SelectTraceParent },
        { nameof(CatalogSql.SelectStages), CatalogSql.SelectStages },
        { nameof(CatalogSql.SelectStage), CatalogSql.SelectStage },
        { nameof(CatalogSql.ListFirstPage), CatalogSql.ListFirstPage },
        { nameof(CatalogSql.ListAfterCursor), CatalogSql.ListAfterCursor },
        { nameof(CatalogSql.SelectNeverEnqueued), CatalogSql.SelectNeverEnqueued },
        { nameof(CatalogSql.SelectInactive), CatalogSql.SelectInactive },
        { nameof(CatalogSql.SelectCheckpoint), CatalogSql.SelectCheckpoint },
        { nameof(CatalogSql.SelectCheckpointStages), CatalogSql.SelectCheckpointStages },
        { nameof(CatalogSql.SelectStagesWithStatus), CatalogSql.SelectStagesWithStatus },
        { nameof(CatalogSql.SelectEvents), CatalogSql.SelectEvents },
        { nameof(CatalogSql.DeleteCheckpoint), CatalogSql.DeleteCheckpoint },
        { nameof(CatalogSql.MarkRequeued), CatalogSql.MarkRequeued },
        { nameof(CatalogSql.ResetStagesWithStatus), CatalogSql.ResetStagesWithStatus },
        { nameof(CatalogSql.SkipUnfinishedStages), CatalogSql.SkipUnfinishedStages },
        { nameof(CatalogSql.ResetStagesWithoutCheckpoint), CatalogSql.ResetStagesWithoutCheckpoint },
        { nameof(IngestService.Scanning.ScanSql.SelectHeld), IngestService.Scanning.ScanSql.SelectHeld },
        { nameof(IngestService.Scanning.ScanSql.CountHeld), IngestService.Scanning.ScanSql.CountHeld },
        { nameof(IngestService.Scanning.ScanSql.SelectScanState), IngestService.Scanning.ScanSql.SelectScanState },
        { nameof(IngestService.Scanning.ScanSql.MarkScanned), IngestService.Scanning.ScanSql.MarkScanned },
        { nameof(IngestService.Scanning.ScanSql.Reject), IngestService.Scanning.ScanSql.Reject },
        { nameof(IngestService.Scanning.ScanSql.NoteHeld), IngestService.Scanning.ScanSql.NoteHeld },
        { nameof(IngestService.Events.EventSql.NextSeq), IngestService.Events.EventSql.NextSeq },
        { nameof(IngestService.Events.EventSql.NextProgressSeq), IngestService.Events.EventSql.NextProgressSeq },
        { nameof(IngestService.Events.EventSql.SelectHead), IngestService.Events.EventSql.SelectHead },
        { nameof(IngestService.Events.EventSql.SelectDocumentAfter), IngestService.Events.EventSql.SelectDocumentAfter },
        { nameof(IngestService.Events.EventSql.SelectClientAfter), IngestService.Events.EventSql.SelectClientAfter },
        { nameof(IngestService.Events.EventSql.SelectClientHead), IngestService.Events.EventSql.SelectClientHead },
        { nameof(IngestService.Events.EventSql.SelectChangesAfter), IngestService.Events.EventSql.SelectChangesAfter },
        { nameof(IngestService.Events.EventSql.SelectLastPosition), IngestService.Events.EventSql.SelectLastPosition },
        { nameof(IngestService.Events.EventSql.SelectStageStatus), IngestService.Events.EventSql.SelectStageStatus },
        { nameof(IngestService.Retention.RetentionSql.SelectTombstone), IngestService.Retention.RetentionSql.SelectTombstone },
        { nameof(IngestService.Retention.RetentionSql.SelectExpired), IngestService.Retention.RetentionSql.SelectExpired },
        { nameof(IngestService.Retention.RetentionSql.SelectDeleting), IngestService.Retention.RetentionSql.SelectDeleting },
        { nameof(IngestService.Retention.RetentionSql.FinishTombstone), IngestService.Retention.RetentionSql.FinishTombstone },
        { nameof(IngestService.Retention.RetentionSql.DeleteDocument), IngestService.Retention.RetentionSql.DeleteDocument },
        { nameof(IngestService.Batches.BatchSql.SelectBatch), IngestService.Batches.BatchSql.SelectBatch },
        { nameof(IngestService.Batches.BatchSql.SelectFiles), IngestService.Batches.BatchSql.SelectFiles },
    };

    [Theory]
    [Trait("Req", "DB-5")]
    [MemberData(nameof(Queries))]
    public async Task The_query_plan_uses_an_index_and_no_temporary_sort(string name, string sql)
    {
        // Some rows, so the planner works on a realistic table rather than an empty one.
        await Api.UploadOkAsync(fixture.Client, Api.MinimalPdf, "plan.pdf");

        using var connection = fixture.Host.OpenCatalog();
        using var explain = connection.CreateCommand();
        explain.CommandText = "EXPLAIN QUERY PLAN " + sql;
        foreach (var parameter in ParameterNames(sql))
        {
            explain.Parameters.AddWithValue(parameter, parameter == "@limit" ? 10 : "x");
        }

        var plan = new List<string>();
        using (var reader = explain.ExecuteReader())
        {
            while (reader.Read())
            {
                plan.Add(reader.GetString(3));
            }
        }

        var text = name + ": " + string.Join(" | ", plan);
        Assert.NotEmpty(plan);
        Assert.All(plan.Where(step => step.StartsWith("SCAN", StringComparison.Ordinal) || step.StartsWith("SEARCH", StringComparison.Ordinal)),
            step => Assert.True(step.Contains("USING", StringComparison.Ordinal) && step.Contains("INDEX", StringComparison.Ordinal) || step.Contains("PRIMARY KEY", StringComparison.Ordinal), text));
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Req", "DB-1")]
    public void The_catalog_runs_in_wal_mode_at_the_latest_schema_version()
    {
        using var connection = fixture.Host.OpenCatalog();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", command.ExecuteScalar() as string);
        command.CommandText = "PRAGMA user_version;";
        Assert.Equal((long)CatalogMigrations.LatestVersion, command.ExecuteScalar());
    }

    private static IEnumerable<string> ParameterNames(string sql) =>
        System.Text.RegularExpressions.Regex.Matches(sql, "@[a-z_]+").Select(m => m.Value).Distinct();
}
