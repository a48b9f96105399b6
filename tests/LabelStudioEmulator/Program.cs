using LabelStudioEmulator;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

// Run as its own process: dotnet LabelStudioEmulator.dll --urls http://127.0.0.1:PORT [--Emulator:LegacyToken=...]
var app = EmulatorApp.Build(args);
app.Lifetime.ApplicationStarted.Register(() =>
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
});
app.Run();
