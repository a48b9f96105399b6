using System.Text.Json.Nodes;
using LabelStudioEmulator.Auth;
using LabelStudioEmulator.Faults;
using LabelStudioEmulator.Model;
using LabelStudioEmulator.Webhooks;

namespace LabelStudioEmulator;

/// <summary>Everything one emulator instance holds: its data, credentials, faults and request log.</summary>
public sealed class EmulatorState
{
    public EmulatorState(EmulatorSettings settings, TimeProvider time)
    {
        Settings = settings;
        Time = time;
        Tokens = new TokenService(settings, time);
    }

    public EmulatorSettings Settings { get; }
    public TimeProvider Time { get; }
    public TokenService Tokens { get; }
    public EmulatorStore Store { get; } = new();
    public FaultControls Faults { get; } = new();
    public RequestLog Requests { get; } = new();
}

/// <summary>Test-only actions that a person would do in Label Studio's UI.</summary>
public sealed class EmulatorActions(EmulatorState state, WebhookSender webhooks)
{
    /// <summary>
    /// Creates an annotation on a task as an annotator would, then fires ANNOTATION_CREATED to the subscribed
    /// webhooks (unless webhooks are being dropped). Null when the task does not exist.
    /// </summary>
    public async Task<(JsonObject Annotation, IReadOnlyList<WebhookAttempt> Webhooks)?> CreateAnnotationAsync(
        int taskId, JsonArray result, bool wasCancelled = false, int completedBy = 1, CancellationToken cancellationToken = default)
    {
        var task = state.Store.FindTask(taskId);
        if (task is null)
        {
            return null;
        }

        var project = state.Store.FindProject(task.ProjectId)!;
        var problem = project.Config.ValidateResult(result);
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(result));
        }

        var annotation = state.Store.AddAnnotation(taskId, result, wasCancelled, completedBy, state.Time.GetUtcNow())!;
        var annotationJson = state.Store.AnnotationJson(task, annotation);
        var taskJson = state.Store.TaskJson(task, full: false);
        var attempts = await webhooks.FireAsync(project, "ANNOTATION_CREATED", body =>
        {
            body["annotation"] = annotationJson.DeepClone();
            body["task"] = taskJson.DeepClone();
        }, cancellationToken);
        return (annotationJson, attempts);
    }

    /// <summary>The JSON body Label Studio would post for ANNOTATION_CREATED, for replay tests.</summary>
    public JsonObject AnnotationCreatedPayload(int annotationId)
    {
        foreach (var project in state.Store.Projects(null))
        {
            foreach (var candidate in state.Store.Tasks(project.Id))
            {
                var annotation = candidate.Annotations.FirstOrDefault(a => a.Id == annotationId);
                if (annotation is not null)
                {
                    return new JsonObject
                    {
                        ["action"] = "ANNOTATION_CREATED",
                        ["project"] = state.Store.ProjectJson(project),
                        ["annotation"] = state.Store.AnnotationJson(candidate, annotation),
                        ["task"] = state.Store.TaskJson(candidate, full: false),
                    };
                }
            }
        }

        throw new KeyNotFoundException($"No annotation {annotationId}");
    }
}
