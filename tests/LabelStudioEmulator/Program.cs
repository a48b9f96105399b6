using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace LabelStudioEmulator;

/// <summary>
/// Runs the emulator as its own process: <c>dotnet LabelStudioEmulator.dll --urls http://127.0.0.1:PORT
/// [--Emulator:LegacyToken=...]</c>. (An explicit Main in a namespace, so test projects that also reference a
/// service can tell the two entry points apart.)
/// </summary>
internal static class EmulatorProgram
{
    public static void Main(string[] args)
    {
        var app = EmulatorApp.Build(args);
        app.Lifetime.ApplicationStarted.Register(() => PrintBanner(app));
        app.Run();
    }

    private static void PrintBanner(WebApplication app)
    {
        var state = app.Services.GetRequiredService<EmulatorState>();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var token = state.Tokens.LegacyToken;
        var masked = token.Length > 4 ? token[..4] + new string('*', token.Length - 4) : "****";
        Console.WriteLine("==================================================================================");
        Console.WriteLine(EmulatorApp.Banner);
        Console.WriteLine("  listening on: " + string.Join(", ", addresses));
        Console.WriteLine("  legacy token: " + masked + " (Emulator:LegacyToken; a PAT: POST /__emulator/pat)");
        Console.WriteLine("  fault controls: POST /__emulator/faults, request log: GET /__emulator/requests");
        Console.WriteLine("==================================================================================");
    }
}
