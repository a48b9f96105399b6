using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Suite.ServiceDefaults.Problems;

public static class ProblemDetailsExtensions
{
    public static IServiceCollection AddApiProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx => ApiProblem.Enrich(ctx.ProblemDetails, ctx.HttpContext));
        // A parameter or body minimal APIs cannot bind throws BadHttpRequestException, whose message names it ("Failed
        // to bind parameter "int limit" from "x""), instead of a bare 400; the handler below turns it into a problem.
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return services;
    }

    /// <summary>
    /// Unhandled exceptions become a logged 500 problem (no stack trace to the client); bad request bodies and
    /// parameters become 400 problems naming what was wrong; bare status codes (404 on unknown routes, 405)
    /// become problems too.
    /// </summary>
    public static WebApplication UseApiProblemHandling(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = ex => ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
            ExceptionHandler = async context =>
            {
                var feature = context.Features.Get<IExceptionHandlerFeature>();
                var error = feature?.Error;
                ProblemDetails problem;
                if (error is BadHttpRequestException bad)
                {
                    problem = ApiProblem.Create(bad.StatusCode, bad.StatusCode == 413 ? "payload_too_large" : "bad_request",
                        "The request is not valid", bad.Message + " Correct the request and send it again.");
                }
                else
                {
                    var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Suite.UnhandledException");
                    logger.LogError(error, "Unhandled exception on {Method} {Path}", context.Request.Method, context.Request.Path);
                    problem = ApiProblem.Create(500, "internal_error", "Internal error",
                        "The server failed while handling this request. It was logged with the trace id; try again, and report the trace id if it persists.",
                        retryable: true);
                }

                context.Response.StatusCode = problem.Status ?? 500;
                var writer = context.RequestServices.GetRequiredService<IProblemDetailsService>();
                await writer.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = error });
            },
        });
        app.UseStatusCodePages();
        return app;
    }
}
