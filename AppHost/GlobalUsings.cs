// The app model reads like Aspire's: Program.cs needs no usings.
global using Suite.AppHost.Hosting;
