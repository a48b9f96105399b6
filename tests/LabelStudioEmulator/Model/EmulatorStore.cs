using System.Text.Json.Nodes;
using LabelStudioEmulator.Auth;

namespace LabelStudioEmulator.Model;

public sealed class ProjectRecord
{
    public required int Id { get; init; }
    public required string Title { get; set; }
    public string Description { get; set; } = "";
    public required string LabelConfigXml { get; set; }
    public required LabelConfig Config { get; set; }
    public required DateTimeOffset CreatedAt { get; init; }
}

public sealed class TaskRecord
{
    public required int Id { get; init; }
    public required int ProjectId { get; init; }
    public required int InnerId { get; init; }
    public required JsonObject Data { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
    public List<AnnotationRecord> Annotations { get; } = [];
    public List<PredictionRecord> Predictions { get; } = [];
}

public sealed class AnnotationRecord
{
    public required int Id { get; init; }
    public required int TaskId { get; init; }
    public required JsonArray Result { get; set; }
    public int CompletedBy { get; init; } = 1;
    public bool WasCancelled { get; init; }
    public bool GroundTruth { get; init; }
    public double LeadTime { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public sealed class PredictionRecord
{
    public required int Id { get; init; }
    public required int TaskId { get; init; }
    public required JsonArray Result { get; init; }
    public double? Score { get; init; }
    public string ModelVersion { get; init; } = "undefined";
    public required DateTimeOffset CreatedAt { get; init; }
}

public sealed class WebhookRecord
{
    public required int Id { get; init; }
    public int? ProjectId { get; init; }
    public required string Url { get; set; }
    public bool SendPayload { get; set; } = true;
    public bool SendForAllActions { get; set; } = true;
    public Dictionary<string, string> Headers { get; set; } = new(StringComparer.Ordinal);
    public bool IsActive { get; set; } = true;
    public List<string> Actions { get; set; } = [];
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public sealed class ImportRecord
{
    public required int Id { get; init; }
    public required int ProjectId { get; init; }
    public required IReadOnlyList<int> TaskIds { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset CompletesAt { get; init; }
}

/// <summary>
/// The emulator's in-memory Label Studio: projects, tasks with their annotations and predictions, webhooks and
/// asynchronous imports. One lock; every read returns a JSON copy so callers never see a half-written state.
/// </summary>
public sealed class EmulatorStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, ProjectRecord> _projects = [];
    private readonly SortedDictionary<int, TaskRecord> _tasks = [];
    private readonly Dictionary<int, WebhookRecord> _webhooks = [];
    private readonly Dictionary<int, ImportRecord> _imports = [];
    private int _nextProject;
    private int _nextTask;
    private int _nextAnnotation;
    private int _nextPrediction;
    private int _nextWebhook;
    private int _nextImport;

    public Lock Gate => _gate;

    public ProjectRecord CreateProject(string title, string description, string xml, LabelConfig config, DateTimeOffset now)
    {
        lock (_gate)
        {
            var project = new ProjectRecord
            {
                Id = ++_nextProject, Title = title, Description = description, LabelConfigXml = xml, Config = config, CreatedAt = now,
            };
            _projects[project.Id] = project;
            return project;
        }
    }

    public ProjectRecord? FindProject(int id)
    {
        lock (_gate)
        {
            return _projects.GetValueOrDefault(id);
        }
    }

    public IReadOnlyList<ProjectRecord> Projects(string? titleContains)
    {
        lock (_gate)
        {
            return _projects.Values
                .Where(p => string.IsNullOrEmpty(titleContains) || p.Title.Contains(titleContains, StringComparison.OrdinalIgnoreCase))
                .OrderByDescending(p => p.Id)
                .ToList();
        }
    }

    /// <summary>Adds tasks with their predictions and annotations atomically; returns the new task ids.</summary>
    public IReadOnlyList<int> AddTasks(int projectId, IReadOnlyList<(JsonObject Data, JsonArray Predictions, JsonArray Annotations)> tasks, DateTimeOffset now)
    {
        lock (_gate)
        {
            var ids = new List<int>(tasks.Count);
            var inner = _tasks.Values.Count(t => t.ProjectId == projectId);
            foreach (var (data, predictions, annotations) in tasks)
            {
                var task = new TaskRecord { Id = ++_nextTask, ProjectId = projectId, InnerId = ++inner, Data = data, CreatedAt = now, UpdatedAt = now };
                foreach (var p in predictions.OfType<JsonObject>())
                {
                    task.Predictions.Add(NewPrediction(task.Id, p, now));
                }

                foreach (var a in annotations.OfType<JsonObject>())
                {
                    task.Annotations.Add(new AnnotationRecord
                    {
                        Id = ++_nextAnnotation, TaskId = task.Id, Result = (JsonArray)a["result"]!.DeepClone(), CreatedAt = now, UpdatedAt = now,
                    });
                }

                _tasks[task.Id] = task;
                ids.Add(task.Id);
            }

            return ids;
        }
    }

    public int AddPredictions(IReadOnlyList<JsonObject> predictions, DateTimeOffset now)
    {
        lock (_gate)
        {
            foreach (var p in predictions)
            {
                var task = _tasks[p["task"]!.GetValue<int>()];
                task.Predictions.Add(NewPrediction(task.Id, p, now));
            }

            return predictions.Count;
        }
    }

    private PredictionRecord NewPrediction(int taskId, JsonObject p, DateTimeOffset now) => new()
    {
        Id = ++_nextPrediction,
        TaskId = taskId,
        Result = (JsonArray)p["result"]!.DeepClone(),
        Score = p["score"] is JsonValue s && s.TryGetValue<double>(out var score) ? score : null,
        ModelVersion = p["model_version"]?.ToString() ?? "undefined",
        CreatedAt = now,
    };

    public AnnotationRecord? AddAnnotation(int taskId, JsonArray result, bool wasCancelled, int completedBy, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (!_tasks.TryGetValue(taskId, out var task))
            {
                return null;
            }

            var annotation = new AnnotationRecord
            {
                Id = ++_nextAnnotation, TaskId = taskId, Result = (JsonArray)result.DeepClone(), WasCancelled = wasCancelled,
                CompletedBy = completedBy, CreatedAt = now, UpdatedAt = now, LeadTime = 12.5,
            };
            task.Annotations.Add(annotation);
            task.UpdatedAt = now;
            return annotation;
        }
    }

    public TaskRecord? FindTask(int id)
    {
        lock (_gate)
        {
            return _tasks.GetValueOrDefault(id);
        }
    }

    public IReadOnlyList<TaskRecord> Tasks(int projectId)
    {
        lock (_gate)
        {
            return _tasks.Values.Where(t => t.ProjectId == projectId).ToList();
        }
    }

    public bool AllTasksInProject(int projectId, IEnumerable<int> taskIds)
    {
        lock (_gate)
        {
            return taskIds.All(id => _tasks.TryGetValue(id, out var t) && t.ProjectId == projectId);
        }
    }

    public WebhookRecord AddWebhook(Func<int, WebhookRecord> create)
    {
        lock (_gate)
        {
            var webhook = create(++_nextWebhook);
            _webhooks[webhook.Id] = webhook;
            return webhook;
        }
    }

    public WebhookRecord? FindWebhook(int id)
    {
        lock (_gate)
        {
            return _webhooks.GetValueOrDefault(id);
        }
    }

    public bool RemoveWebhook(int id)
    {
        lock (_gate)
        {
            return _webhooks.Remove(id);
        }
    }

    public IReadOnlyList<WebhookRecord> Webhooks(int? projectId)
    {
        lock (_gate)
        {
            return _webhooks.Values.Where(w => projectId is null || w.ProjectId == projectId).OrderBy(w => w.Id).ToList();
        }
    }

    public ImportRecord AddImport(int projectId, IReadOnlyList<int> taskIds, DateTimeOffset now, TimeSpan completion)
    {
        lock (_gate)
        {
            var record = new ImportRecord { Id = ++_nextImport, ProjectId = projectId, TaskIds = taskIds, CreatedAt = now, CompletesAt = now + completion };
            _imports[record.Id] = record;
            return record;
        }
    }

    public ImportRecord? FindImport(int projectId, int id)
    {
        lock (_gate)
        {
            return _imports.TryGetValue(id, out var record) && record.ProjectId == projectId ? record : null;
        }
    }

    // ---- JSON shapes (Label Studio's serializers) ----

    public JsonObject ProjectJson(ProjectRecord project)
    {
        lock (_gate)
        {
            var tasks = _tasks.Values.Where(t => t.ProjectId == project.Id).ToList();
            return new JsonObject
            {
                ["id"] = project.Id,
                ["title"] = project.Title,
                ["description"] = project.Description,
                ["label_config"] = project.LabelConfigXml,
                ["parsed_label_config"] = project.Config.ToParsedJson(),
                ["expert_instruction"] = "",
                ["show_instruction"] = false,
                ["show_skip_button"] = true,
                ["enable_empty_annotation"] = true,
                ["show_annotation_history"] = false,
                ["organization"] = 1,
                ["color"] = "#FFFFFF",
                ["maximum_annotations"] = 1,
                ["is_published"] = false,
                ["model_version"] = "",
                ["is_draft"] = false,
                ["created_by"] = new JsonObject { ["id"] = 1, ["first_name"] = "", ["last_name"] = "", ["email"] = "emulator@localhost", ["avatar"] = null },
                ["created_at"] = TokenService.Iso(project.CreatedAt),
                ["min_annotations_to_start_training"] = 0,
                ["show_collab_predictions"] = true,
                ["config_has_control_tags"] = project.Config.Controls.Count > 0,
                ["task_number"] = tasks.Count,
                ["num_tasks_with_annotations"] = tasks.Count(t => t.Annotations.Any(a => !a.WasCancelled)),
                ["total_annotations_number"] = tasks.Sum(t => t.Annotations.Count(a => !a.WasCancelled)),
                ["skipped_annotations_number"] = tasks.Sum(t => t.Annotations.Count(a => a.WasCancelled)),
                ["total_predictions_number"] = tasks.Sum(t => t.Predictions.Count),
                ["finished_task_number"] = tasks.Count(t => t.Annotations.Any(a => !a.WasCancelled)),
                ["workspace"] = null,
            };
        }
    }

    public JsonObject TaskJson(TaskRecord task, bool full)
    {
        lock (_gate)
        {
            var json = new JsonObject
            {
                ["id"] = task.Id,
                ["data"] = task.Data.DeepClone(),
                ["meta"] = new JsonObject(),
                ["created_at"] = TokenService.Iso(task.CreatedAt),
                ["updated_at"] = TokenService.Iso(task.UpdatedAt),
                ["inner_id"] = task.InnerId,
                ["is_labeled"] = task.Annotations.Any(a => !a.WasCancelled),
                ["overlap"] = 1,
                ["total_annotations"] = task.Annotations.Count(a => !a.WasCancelled),
                ["cancelled_annotations"] = task.Annotations.Count(a => a.WasCancelled),
                ["total_predictions"] = task.Predictions.Count,
                ["project"] = task.ProjectId,
                ["file_upload"] = null,
                ["updated_by"] = null,
            };
            if (full)
            {
                json["annotations"] = new JsonArray([.. task.Annotations.Select(a => (JsonNode)AnnotationJson(task, a))]);
                json["predictions"] = new JsonArray([.. task.Predictions.Select(p => (JsonNode)PredictionJson(task, p))]);
            }

            return json;
        }
    }

    public JsonObject AnnotationJson(TaskRecord task, AnnotationRecord a)
    {
        lock (_gate)
        {
            return new JsonObject
            {
                ["id"] = a.Id,
                ["result"] = a.Result.DeepClone(),
                ["created_username"] = "emulator@localhost, 1",
                ["created_ago"] = "0 minutes",
                ["completed_by"] = a.CompletedBy,
                ["was_cancelled"] = a.WasCancelled,
                ["ground_truth"] = a.GroundTruth,
                ["created_at"] = TokenService.Iso(a.CreatedAt),
                ["updated_at"] = TokenService.Iso(a.UpdatedAt),
                ["lead_time"] = a.LeadTime,
                ["task"] = task.Id,
                ["project"] = task.ProjectId,
                ["parent_prediction"] = null,
                ["parent_annotation"] = null,
            };
        }
    }

    private static JsonObject PredictionJson(TaskRecord task, PredictionRecord p) => new()
    {
        ["id"] = p.Id,
        ["result"] = p.Result.DeepClone(),
        ["score"] = p.Score,
        ["model_version"] = p.ModelVersion,
        ["task"] = task.Id,
        ["project"] = task.ProjectId,
        ["created_at"] = TokenService.Iso(p.CreatedAt),
        ["updated_at"] = TokenService.Iso(p.CreatedAt),
    };

    public static JsonObject WebhookJson(WebhookRecord w)
    {
        var headers = new JsonObject();
        foreach (var (k, v) in w.Headers)
        {
            headers[k] = v;
        }

        return new JsonObject
        {
            ["id"] = w.Id,
            ["organization"] = 1,
            ["project"] = w.ProjectId,
            ["url"] = w.Url,
            ["send_payload"] = w.SendPayload,
            ["send_for_all_actions"] = w.SendForAllActions,
            ["headers"] = headers,
            ["is_active"] = w.IsActive,
            ["actions"] = new JsonArray([.. w.Actions.Select(a => (JsonNode)JsonValue.Create(a))]),
            ["created_at"] = TokenService.Iso(w.CreatedAt),
            ["updated_at"] = TokenService.Iso(w.UpdatedAt),
        };
    }
}
