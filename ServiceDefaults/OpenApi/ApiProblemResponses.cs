using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Suite.ServiceDefaults.Problems;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Declares an endpoint's (or a group's) error answers: application/problem+json (ApiProblem) and the codes each can carry.</summary>
public static class ApiProblemResponses
{
    /// <summary>
    /// A problem response with <paramref name="status"/>; <paramref name="codes"/> are the stable codes it can carry,
    /// named in the response's description. Declared again for the same status (say on the group and on the
    /// endpoint), the codes add up.
    /// </summary>
    public static TBuilder ProducesApiProblem<TBuilder>(this TBuilder builder, int status, params string[] codes)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(codes);
        builder.Add(endpoint =>
        {
            if (endpoint.Metadata.OfType<ApiProblemResponse>().FirstOrDefault(r => r.StatusCode == status) is { } declared)
            {
                declared.Add(codes);
            }
            else
            {
                endpoint.Metadata.Add(new ApiProblemResponse(status, codes));
            }
        });
        return builder;
    }

    /// <summary>
    /// Extension on a problem response listing its codes, so that a reader (the gateway merging documents, a client)
    /// gets them without parsing the description.
    /// </summary>
    public const string CodesExtension = "x-problem-codes";

    /// <summary>The description of a problem response: the status's reason phrase and the codes it can carry.</summary>
    public static string Describe(int status, IReadOnlyCollection<string> codes)
    {
        ArgumentNullException.ThrowIfNull(codes);
        var phrase = ReasonPhrases.GetReasonPhrase(status);
        return codes.Count == 0
            ? $"{phrase}: a problem (application/problem+json)."
            : string.Create(CultureInfo.InvariantCulture, $"{phrase}: a problem (application/problem+json) with code {string.Join(", ", codes.Select(c => $"`{c}`"))}.");
    }

    /// <summary>
    /// The response metadata ApiExplorer (and so the OpenAPI document) reads; <see cref="Codes"/> go into the response's
    /// description (ProblemResponses), as ApiExplorer does not carry a metadata description over.
    /// </summary>
    internal sealed class ApiProblemResponse(int status, IEnumerable<string> codes) : IProducesResponseTypeMetadata
    {
        private readonly List<string> _codes = [.. codes];

        public IReadOnlyList<string> Codes => _codes;

        public Type? Type => typeof(ProblemDetails);

        public int StatusCode => status;

        public IEnumerable<string> ContentTypes { get; } = [ApiProblem.ContentType];

        public string? Description => Describe(status, _codes);

        public void Add(IEnumerable<string> more) => _codes.AddRange(more.Where(c => !_codes.Contains(c, StringComparer.Ordinal)));
    }
}
