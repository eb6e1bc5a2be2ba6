"""404: the thing a request names is not there, or belongs to another user (which
answers exactly the same, so an id leaks nothing)."""

from roost.errors.base import NotFound


class SessionNotFound(NotFound):
    code = "SESSION_NOT_FOUND"

    def __init__(self, session_id: str) -> None:
        super().__init__(f"Session {session_id} not found", details={"session_id": session_id})


class MessageNotFound(NotFound):
    code = "MESSAGE_NOT_FOUND"

    def __init__(self, message_id: str) -> None:
        super().__init__(f"Message {message_id} not found", details={"message_id": message_id})


class TurnNotFound(NotFound):
    code = "TURN_NOT_FOUND"

    def __init__(self, turn_id: str) -> None:
        super().__init__(f"Turn {turn_id} not found", details={"turn_id": turn_id})


class ResponseNotFound(NotFound):
    """A response of OpenAI's Responses API, which is a turn named as the client named it."""

    code = "RESPONSE_NOT_FOUND"

    def __init__(self, response_id: str) -> None:
        super().__init__(f"Response {response_id} not found", details={"response_id": response_id})


class InputNotFound(NotFound):
    code = "INPUT_REQUEST_NOT_FOUND"

    def __init__(self, request_id: str) -> None:
        super().__init__(
            f"Input request {request_id} not found", details={"request_id": request_id}
        )


class AgentNotFound(NotFound):
    code = "AGENT_NOT_FOUND"

    def __init__(self, agent: str, available: list[str]) -> None:
        super().__init__(
            f"Agent {agent} not found", details={"agent": agent, "available": available}
        )


class AgentVersionNotFound(NotFound):
    code = "AGENT_VERSION_NOT_FOUND"

    def __init__(self, agent_id: str, version: int) -> None:
        super().__init__(
            f"Agent {agent_id} has no version {version}",
            details={"agent_id": agent_id, "version": version},
        )


class MemoryNotFound(NotFound):
    code = "MEMORY_NOT_FOUND"

    def __init__(self, memory_id: str) -> None:
        super().__init__(f"Memory {memory_id} not found", details={"memory_id": memory_id})


class RunNotFound(NotFound):
    code = "RUN_NOT_FOUND"

    def __init__(self, run_id: str) -> None:
        super().__init__(f"Run {run_id} not found", details={"run_id": run_id})


class TestSetNotFound(NotFound):
    __test__ = False  # not a pytest class, whatever its name
    code = "TESTSET_NOT_FOUND"

    def __init__(self, testset_id: str) -> None:
        super().__init__(f"Test set {testset_id} not found", details={"testset_id": testset_id})


class CaseNotFound(NotFound):
    code = "CASE_NOT_FOUND"

    def __init__(self, testset_id: str, case_id: str) -> None:
        super().__init__(
            f"Test set {testset_id} has no case {case_id}",
            details={"testset_id": testset_id, "case_id": case_id},
        )


class EvalRunNotFound(NotFound):
    code = "EVAL_RUN_NOT_FOUND"

    def __init__(self, eval_run_id: str) -> None:
        super().__init__(
            f"Evaluation run {eval_run_id} not found", details={"eval_run_id": eval_run_id}
        )


class ProjectNotFound(NotFound):
    code = "PROJECT_NOT_FOUND"

    def __init__(self, project_id: str) -> None:
        super().__init__(f"Project {project_id} not found", details={"project_id": project_id})


class ProjectFileNotFound(NotFound):
    """No entry of a project's files and snippets has the path, name or id given."""

    code = "PROJECT_FILE_NOT_FOUND"

    def __init__(
        self, *, path: str | None = None, name: str | None = None, entry_id: str | None = None
    ) -> None:
        given = {"path": path, "name": name, "id": entry_id}
        super().__init__(
            "No such file or snippet in the project",
            details={key: value for key, value in given.items() if value},
        )


class TaskNotFound(NotFound):
    code = "TASK_NOT_FOUND"

    def __init__(self, task_id: str) -> None:
        super().__init__(f"Task {task_id} not found", details={"task_id": task_id})


class ArtifactNotFound(NotFound):
    code = "ARTIFACT_NOT_FOUND"

    def __init__(self, task_id: str, artifact_id: str) -> None:
        super().__init__(
            f"Task {task_id} has no artifact {artifact_id}",
            details={"task_id": task_id, "artifact_id": artifact_id},
        )


class JobNotFound(NotFound):
    code = "JOB_NOT_FOUND"

    def __init__(self, name: str) -> None:
        super().__init__(f"No scheduled job named {name}", details={"name": name})


class SkillNotFound(NotFound):
    code = "SKILL_NOT_FOUND"

    def __init__(self, skill_id: str) -> None:
        super().__init__(f"Skill {skill_id} not found", details={"skill_id": skill_id})


class McpServerNotFound(NotFound):
    code = "MCP_SERVER_NOT_FOUND"

    def __init__(self, server_id: str) -> None:
        super().__init__(f"MCP server {server_id} not found", details={"server_id": server_id})


class TemplateNotFound(NotFound):
    code = "TEMPLATE_NOT_FOUND"

    def __init__(self, name: str) -> None:
        super().__init__(f"Template {name} not found", details={"template": name})


class UserNotFound(NotFound):
    code = "USER_NOT_FOUND"

    def __init__(self, user_id: str) -> None:
        super().__init__(f"User {user_id} not found", details={"user_id": user_id})

    @classmethod
    def by_email(cls, address: str) -> "UserNotFound":
        return cls.make(f"No user has the email {address}", {"email": address})


class ApiKeyNotFound(NotFound):
    code = "KEY_NOT_FOUND"

    def __init__(self, key_id: str) -> None:
        super().__init__(f"API key {key_id} not found", details={"key_id": key_id})


class InviteNotFound(NotFound):
    code = "INVITE_CODE_NOT_FOUND"

    def __init__(self, code_id: str) -> None:
        super().__init__(f"Invite code {code_id} not found", details={"code_id": code_id})


class LocationNotFound(NotFound):
    code = "LOCATION_NOT_FOUND"

    def __init__(self, location: str) -> None:
        super().__init__(f"Location {location} not found", details={"location": location})


class FileNotFound(NotFound):
    """A path inside a project that is not there."""

    code = "FILE_NOT_FOUND"

    def __init__(self, path: str) -> None:
        super().__init__(f"{path} does not exist", details={"path": path})


class ModelNotFound(NotFound):
    code = "MODEL_NOT_FOUND"

    def __init__(self, model: str, available_models: list[str]) -> None:
        super().__init__(
            f"Model {model} not found",
            details={"model": model, "available_models": available_models},
        )


class ProviderNotFound(NotFound):
    code = "PROVIDER_NOT_FOUND"

    def __init__(self, provider_id: str, available: list[str]) -> None:
        super().__init__(
            f"Provider {provider_id} not found",
            details={"provider_id": provider_id, "available": available},
        )
