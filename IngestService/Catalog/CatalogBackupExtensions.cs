using IngestService.Catalog;
using IngestService.Storage;
using Suite.ServiceDefaults.Data;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Backups of the catalog (section <c>Catalog:Backups</c>, files <c>{Storage:Root}/backups/catalog-{UTC time}.db</c>)
/// and its operator routes <c>POST /internal/admin/catalog/backup</c> and <c>/integrity-check</c>. A catalog that
/// failed its start-up check is not backed up; damage found by the integrity route makes it unavailable, exactly
/// like SQLITE_CORRUPT seen by a request.
/// </summary>
internal static class CatalogBackupExtensions
{
    public const string Section = "Catalog:Backups";

    /// <summary>Before <c>AddIngestCatalog</c>: the catalog's lock file is then held before the catalog is opened.</summary>
    public static TBuilder AddCatalogBackups<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder =>
        builder.AddSqliteBackups(
            CatalogDb.DatabaseName,
            Section,
            sp => sp.GetRequiredService<BlobStore>().CatalogPath,
            isReady: sp => sp.GetRequiredService<CatalogState>().IsAvailable && sp.GetRequiredService<BlobStore>().IsPresent,
            onDamage: (sp, reason) => sp.GetRequiredService<CatalogState>().MarkUnavailable(reason));

    public static WebApplication MapCatalogAdminEndpoints(this WebApplication app)
    {
        app.MapSqliteAdminEndpoints(CatalogDb.DatabaseName);
        return app;
    }
}
