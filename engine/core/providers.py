"""The simulator profiles, one per provider pack (specs/providers/<name>.yaml).

Each value follows the comment in that pack that cites it: the shape of the error body, the
statuses, codes and types, and the message text where a pack's rule matches on it (the substring
the rule names is always in the message here). Where a pack cites no wording, the message is a
plain description, not the provider's text. A situation a profile does not list answers as in
BASE_ERRORS (engine/core/profiles.py); names beyond the base ones are for drills
(`faults: [{provider_error: NAME}]`).
"""

from __future__ import annotations

from engine.core.profiles import ProviderError, SimProfile

E = ProviderError

COMETAPI = SimProfile(
    "cometapi",
    default_type="comet_api_error",
    request_id_in_message=True,
    errors={  # CometAPI sends an empty code where OpenAI sends none, and codes of its own
        "missing_auth": E(401, "Missing {header} header; expected {expected}"),
        "invalid_request": E(400, "{detail}", "invalid_request"),
        "unknown_route": E(404, "Invalid URL ({method} {path})", "not_found"),
        "internal": E(500, "The simulator failed to handle the request."),
    },
)

OPENAI = SimProfile(
    "openai",
    default_type="invalid_request_error",
    types={429: "rate_limit_error", 500: "server_error", 503: "service_unavailable_error"},
    errors={
        "missing_auth": E(401, "You didn't provide an API key in an Authorization header (Bearer auth).", None, param=None),
        "invalid_key": E(401, "Incorrect API key provided.", "invalid_api_key", param=None),
        "invalid_request": E(400, "{detail}", None),
        "unknown_route": E(404, "Invalid URL ({method} {path})", None, param=None),
        "insufficient_quota": E(
            429, "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota", type="insufficient_quota", param=None,
        ),
        "billing_hard_limit": E(429, "Billing hard limit has been reached.", "billing_hard_limit_reached", type="requests", param=None),
        "slow_down": E(429, "Please reduce your rate of requests.", "slow_down", param=None),
        "overloaded": E(503, "The server is overloaded, please try again later.", "server_is_overloaded", param=None),
        "unsupported_region": E(
            403, "Country, region, or territory not supported", "unsupported_country_region_territory",
            type="request_forbidden", param=None,
        ),
    },
)  # fmt: skip

AZURE_OPENAI = SimProfile(
    "azure-openai",
    chat_path="/openai/deployments/{deployment}/chat/completions",
    auth_header="api-key",
    auth_scheme="key",
    # Without ?api-version= Azure answers 404 {"error": {"code": "404", "message": "Resource not
    # found"}}: https://github.com/MicrosoftDocs/azure-docs/issues/114602 (read 2026-12-02).
    required_query=("api-version",),
    errors={
        # The gateway's own answers carry {"error": {"code": "<status>", "message"}}.
        "missing_auth": E(401, "Access denied due to missing subscription key.", "401", shape="code_message"),
        "invalid_key": E(401, "Access denied due to invalid subscription key or wrong API endpoint.", "401", shape="code_message"),
        "unknown_route": E(404, "Resource not found", "404", shape="code_message"),
        "unknown_deployment": E(404, "The API deployment for this resource does not exist.", "DeploymentNotFound", shape="code_message"),
        "content_filter": E(
            400, "The response was filtered due to the prompt triggering the content management policy.",
            "content_filter", param="prompt",
        ),
        "input_token_limit": E(400, "Input tokens exceed the configured limit of {limit} tokens.", None, param="messages"),
        "rate_limited": E(
            429, "Requests have exceeded the token rate limit of your current pricing tier. Please retry after 2 seconds.",
            "429", shape="code_message", headers=(("retry-after", "2"),),
        ),
    },
)  # fmt: skip

OPENROUTER = SimProfile(
    "openrouter",
    chat_path="/api/v1/chat/completions",
    shape="code_message",
    status_as_code="number",
    errors={
        "missing_auth": E(401, "No auth credentials found", 401),
        "invalid_key": E(401, "The API key is not valid.", 401),
        "invalid_request": E(400, "{detail}", 400),
        "unknown_model": E(400, "{model} is not a valid model ID", 400),
        "context_length": E(400, "This endpoint's maximum context length is {limit} tokens. However, you requested about {tokens} tokens.", 400),
        "unknown_route": E(404, "Not Found", 404),
        "upstream_context_length": E(502, "The upstream provider refused the prompt: maximum context length is {limit} tokens.", 502),
        "moderation": E(403, "The input was flagged by moderation.", 403),
        "no_provider": E(503, "No provider available that meets the routing requirements of this request.", 503),
    },
)  # fmt: skip

GROQ = SimProfile(
    "groq",
    chat_path="/openai/v1/chat/completions",
    default_type="invalid_request_error",
    errors={
        "request_too_large": E(
            413, "Request too large for model `{model}` on tokens per minute (TPM): Limit 6000, Requested {tokens}.",
            "rate_limit_exceeded", type="tokens",
        ),
        "flex_capacity": E(498, "Flex tier capacity exceeded; try again later.", "capacity_exceeded"),
        "generation_failed": E(422, "The model could not produce a valid answer for this request.", ""),
        "tool_use_failed": E(400, "Failed to call a function. Please adjust your prompt.", "tool_use_failed"),
        "rate_limited": E(429, "Rate limit reached for model `{model}` on requests per minute.", "rate_limit_exceeded",
                          type="requests", headers=(("retry-after", "2"),)),
    },
)  # fmt: skip

TOGETHER = SimProfile(
    "together",
    default_type="invalid_request_error",
    errors={
        # Documented as a 403; the message as collected by Portkey (the pack's rule matches either status).
        "context_length": E(
            403, "Input validation error: `inputs` tokens + `max_new_tokens` must be <= {limit}. Given: {tokens} `inputs` tokens",
            None, param=None,
        ),
        "unknown_model": E(400, "Unable to access non-serverless model {model}.", "model_not_available", param="model"),
        "endpoint_not_running": E(400, "The dedicated endpoint for this model is not running.", "dedicated_endpoint_not_running"),
    },
)  # fmt: skip

MISTRAL = SimProfile(
    "mistral",
    shape="top_level",
    shapes={422: "detail_list"},
    errors={
        "missing_auth": E(401, "Unauthorized", None, param=None),
        "invalid_key": E(401, "Unauthorized", None, param=None),
        "invalid_request": E(422, "{detail}"),
        "unknown_model": E(400, "Invalid model: {model}", "1500", type="invalid_model", param=None),
        "context_length": E(400, "The prompt is longer than this model's context window.", None, param=None),
        "extra_field": E(422, "Extra inputs are not permitted"),
    },
)  # fmt: skip

DEEPSEEK = SimProfile(
    "deepseek",
    default_type="invalid_request_error",
    errors={
        "unknown_model": E(400, "Model Not Exist", "invalid_request_error", param=None),
        "context_length": E(
            400, "This model's maximum context length is {limit} tokens. However, you requested {tokens} tokens.",
            "invalid_request_error", param=None,
        ),
        "insufficient_balance": E(402, "Insufficient Balance", "invalid_request_error", param=None),
    },
)  # fmt: skip

FIREWORKS = SimProfile(
    "fireworks",
    chat_path="/inference/v1/chat/completions",
    default_type="invalid_request_error",
    errors={
        "unknown_route": E(404, "Not Found", shape="detail"),
        "unknown_model": E(404, "Model not found, inaccessible, and/or not deployed", "NOT_FOUND", type="error",
                           param="model", shape="flat"),
        "no_chat_template": E(404, "Model {model} is missing conversation_config; use the completions API", None, param=None),
        "account_suspended": E(412, "The account is suspended.", None, param=None),
        "overloaded": E(503, "The service is overloaded; try again later.", None, param=None),
    },
)  # fmt: skip

VLLM = SimProfile(
    "vllm",
    shapes={401: "string"},
    status_as_code="number",
    types={400: "BadRequestError", 500: "InternalServerError"},
    errors={
        "missing_auth": E(401, "Unauthorized"),
        "invalid_key": E(401, "Unauthorized"),
        "invalid_request": E(400, "{detail}", 400),
        "unknown_model": E(404, "The model `{model}` does not exist.", 404, type="NotFoundError", param=None),
        "context_length": E(
            400, "This model's maximum context length is {limit} tokens. However, you requested {tokens} tokens.", 400, param=None
        ),
        "unknown_route": E(404, "Not Found", shape="detail"),
        "top_level_context_length": E(
            400, "This model's maximum context length is {limit} tokens.", 400, param=None, shape="top_level"
        ),
        "engine_500": E(500, "The engine failed while handling the request.", 500, param=None),
    },
)  # fmt: skip

OLLAMA = SimProfile(
    "ollama",
    default_type="api_error",
    errors={
        "unknown_model": E(404, 'model "{model}" not found, try pulling it first', None, param=None),
        "invalid_request": E(400, "{detail}", None, type="invalid_request_error", param=None),
        "unknown_route": E(404, "404 page not found", shape="detail"),
    },
)  # fmt: skip

LLAMA_CPP = SimProfile(  # llama-server's typed errors; llama-cpp-python's answers are named python_*
    "llama-cpp",
    status_as_code="number",
    types={
        400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "not_found_error",
        500: "server_error", 501: "not_supported_error", 503: "unavailable_error",
    },
    errors={
        "missing_auth": E(401, "Invalid API Key", 401),
        "invalid_key": E(401, "Invalid API Key", 401),
        "invalid_request": E(400, "{detail}", 400),
        "context_length": E(400, "the request exceeds the available context size, try increasing it", 400,
                            type="exceed_context_size_error"),
        "unknown_route": E(404, "File Not Found", 404),
        "not_supported": E(501, "This server does not support this feature.", 501),
        "loading": E(503, "Loading model", 503),
        "python_invalid_key": E(401, "Invalid API key", shape="detail"),
        "python_internal": E(500, "The request could not be handled.", None, type="internal_server_error", param=None),
    },
)  # fmt: skip

LITELLM = SimProfile(
    "litellm",
    status_as_code="string",
    errors={
        # A proxy with its database; without one, seen live (the pack's header): no key -> 500 text/plain,
        # another key -> 400 no_db_connection (named no_db_key here).
        "missing_auth": E(401, "Authentication Error, No api key passed in.", "401", type="auth_error", param=None),
        "invalid_key": E(401, "Authentication Error, the key is not valid.", "401", type="auth_error", param=None),
        "no_db_key": E(400, "No connected db.", "400", type="no_db_connection", param=None),
        "invalid_request": E(400, "litellm.BadRequestError: {detail}", "400", type="invalid_request_error", param=None),
        "unknown_model": E(400, "Invalid model name passed in model={model}. Call `/v1/models` to view available models.",
                           "400", type=None, param="model"),
        "context_length": E(400, "litellm.ContextWindowExceededError: the prompt is over the model's context window.",
                            "400", type="invalid_request_error", param=None),
        "budget_exceeded": E(429, "Budget has been exceeded! Current cost: 10.5, Max budget: 10.0", "429",
                             type="budget_exceeded", param=None),
        "content_policy": E(400, "litellm.ContentPolicyViolationError: the prompt was refused.", "400", param=None),
        "upstream_unmapped": E(500, "litellm.APIConnectionError: the upstream answered in a way LiteLLM could not map.",
                               "500", param=None),
    },
)  # fmt: skip

PROFILES: dict[str, SimProfile] = {
    profile.name: profile
    for profile in (
        COMETAPI, OPENAI, AZURE_OPENAI, OPENROUTER, GROQ, TOGETHER, MISTRAL,
        DEEPSEEK, FIREWORKS, VLLM, OLLAMA, LLAMA_CPP, LITELLM,
    )
}  # fmt: skip
PROFILE_NAMES = tuple(PROFILES)
