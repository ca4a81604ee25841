"""Declarative JSON endpoints: input validation with pydantic and the OpenAPI document, from one place.

A view declares its query/body models and response model with :func:`endpoint`; the decorator
parses and validates the input (400 with the field-level problems on failure), injects the
authenticated actor, serialises the result, and records the operation for ``/api/v1/openapi.json``.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, get_args, get_origin

from flask import Blueprint, Flask, Response, jsonify, request
from pydantic import BaseModel, ValidationError

from docsvc.errors import InvalidInput, UnsupportedMediaType
from docsvc.web.api.common import INT_MAX

M = TypeVar("M", bound=BaseModel)


@dataclass
class Operation:
    view: Callable[..., Any]
    method: str
    summary: str
    tag: str
    auth: bool
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    form: type[BaseModel] | None
    files: dict[str, str]
    response: type[BaseModel] | None
    status: int
    produces: str
    description: str = ""
    extra_responses: dict[int, str] = field(default_factory=dict)
    idempotent: bool = False


OPERATIONS: dict[str, Operation] = {}  # by endpoint name "blueprint.view"


def endpoint(bp: Blueprint, rule: str, *, method: str = "GET", summary: str, tag: str,
             auth: bool = True, query: type[BaseModel] | None = None, body: type[BaseModel] | None = None,
             form: type[BaseModel] | None = None, files: dict[str, str] | None = None,
             response: type[BaseModel] | None = None, status: int = 200,
             produces: str = "application/json", errors: dict[int, str] | None = None,
             idempotent: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a view. The view receives path arguments plus ``actor`` (when ``auth``),
    ``query``, ``body`` or ``form`` (validated models) and returns a model, a dict/list, or a Response.
    ``idempotent`` (authenticated JSON creations): an ``Idempotency-Key`` header makes a retry
    return the first answer (:mod:`docsvc.web.idempotency`)."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        wants = set(inspect.signature(fn).parameters)

        @functools.wraps(fn)
        def view(**path_args: Any) -> Any:
            kwargs: dict[str, Any] = dict(path_args)
            if auth:
                from docsvc.web.auth import current_actor  # late: avoids an import cycle
                actor = current_actor()
                if "actor" in wants:
                    kwargs["actor"] = actor
            if query is not None:
                kwargs["query"] = parse_model(query, _args_for(query, request.args))
            if body is not None:
                kwargs["body"] = parse_model(body, _json_body())
            if form is not None:
                kwargs["form"] = parse_model(form, _args_for(form, request.form))
            if form is not None or files:
                unknown = sorted(set(request.files) - set(files or {}))
                if unknown:
                    raise InvalidInput(f"unexpected file field {unknown[0]!r}", {"field": unknown[0]})
            if idempotent and auth:
                from docsvc.web.idempotency import run_idempotent  # late: avoids an import cycle
                return run_idempotent(actor, f"{bp.name}.{fn.__name__}", lambda: (_json_of(fn(**kwargs)), status))
            result = fn(**kwargs)
            if isinstance(result, (Response, tuple)):
                return result
            return jsonify(_json_of(result)), status

        bp.add_url_rule(rule, endpoint=fn.__name__, view_func=view, methods=[method])
        OPERATIONS[f"{bp.name}.{fn.__name__}"] = Operation(
            view=view, method=method, summary=summary, tag=tag, auth=auth, query=query, body=body, form=form,
            files=files or {}, response=response, status=status, produces=produces,
            description=inspect.getdoc(fn) or "", extra_responses=errors or {}, idempotent=idempotent)
        return view

    return decorate


def _json_of(result: Any) -> Any:
    return result.model_dump(mode="json") if isinstance(result, BaseModel) else result


def parse_model(model: type[M], data: Any) -> M:
    """``data`` validated as ``model`` (an instance of exactly that model), or ``InvalidInput`` naming each field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [{"field": ".".join(str(p) for p in err["loc"]) or "(body)", "problem": err["msg"]}
                    for err in exc.errors(include_url=False)]
        first = problems[0]
        raise InvalidInput(f"{first['field']}: {first['problem']}", problems) from None


#: No request model nests deeper than a few levels; deeper bodies are refused before validation.
MAX_JSON_DEPTH = 32


def _json_body() -> Any:
    if not request.data:
        raise InvalidInput("a JSON body is required")
    if not request.is_json:
        raise UnsupportedMediaType("send the body as application/json")
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # the parser recurses once per bracket: 10,000 '[' exhaust the stack
        data = _TOO_DEEP
    if data is _TOO_DEEP or _depth_exceeds(data, MAX_JSON_DEPTH):
        raise InvalidInput(f"the JSON body is nested too deeply (at most {MAX_JSON_DEPTH} levels)",
                           {"max_depth": MAX_JSON_DEPTH})
    if data is None:
        raise InvalidInput("the body is not valid JSON")
    return data


_TOO_DEEP = object()


def _depth_exceeds(data: Any, limit: int) -> bool:
    """Is ``data`` nested more than ``limit`` arrays/objects deep? Iterative: no recursion to exhaust."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return False


def _args_for(model: type[BaseModel], args: Any) -> dict[str, Any]:
    """Query strings and form fields carry lists as repeated keys or comma lists.

    Keys the model does not declare are passed through so a strict model rejects them by name."""
    out: dict[str, Any] = {}
    known = {info.alias or name for name, info in model.model_fields.items()}
    for key in args:
        if key not in known:
            out[key] = args.get(key)
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in args:
            continue
        if _is_list(info.annotation):
            values = [v for raw in args.getlist(key) for v in raw.split(",") if v != ""]
            out[key] = values
        else:
            out[key] = args.get(key)
    return out


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) in (list, tuple, set, frozenset):
        return True
    return any(_is_list(a) for a in get_args(annotation) if a is not type(None))


# ---------------------------------------------------------------- OpenAPI
_PATH_ARG = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")
_CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {"int": {"type": "integer", "minimum": 0, "maximum": INT_MAX},
                                                 "string": {"type": "string"}, "path": {"type": "string"},
                                                 "uuid": {"type": "string", "format": "uuid"}}


def _path_schema(converter: str, args: str) -> dict[str, Any]:
    if converter == "any":
        return {"type": "string", "enum": [a.strip().strip("'\"") for a in args.split(",")]}
    return _CONVERTER_SCHEMAS.get(converter or "string", {"type": "string"})


def openapi_document(app: Flask) -> dict[str, Any]:
    """Build the OpenAPI 3.1 document from the URL map and the registered operations."""
    paths: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        op = OPERATIONS.get(rule.endpoint)
        if op is None:
            continue
        path = _PATH_ARG.sub(lambda m: "{" + m.group(3) + "}", rule.rule)
        params = [{"name": name, "in": "path", "required": True, "schema": _path_schema(conv, args)}
                  for conv, args, name in _PATH_ARG.findall(rule.rule)]
        if op.query is not None:
            params += _query_params(op.query, components)
        if op.idempotent:
            params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                           "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                           "description": "a retry with the same key returns the first answer (kept 24 h); "
                                          "the same key with another request is a 422"})
        entry: dict[str, Any] = {"summary": op.summary, "tags": [op.tag], "operationId": rule.endpoint,
                                 "responses": _responses(op, components)}
        if op.description:
            entry["description"] = op.description
        if params:
            entry["parameters"] = params
        if op.body is not None:
            entry["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": _ref(op.body, components)}}}
        if op.form is not None or op.files:
            props = {}
            required: list[str] = []
            if op.form is not None:
                schema = op.form.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(schema.pop("$defs", {}))
                props.update(schema.get("properties", {}))
                required += schema.get("required", [])
            for fname, desc in op.files.items():
                props[fname] = {"type": "string", "format": "binary", "description": desc}
                if not desc.startswith("(optional)"):
                    required.append(fname)
            entry["requestBody"] = {"required": True, "content": {"multipart/form-data": {
                "schema": {"type": "object", "properties": props, "required": required}}}}
        if op.auth:
            entry["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[op.method.lower()] = entry
    components["Error"] = {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"}, "details": {}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "docsvc API", "version": "1",
                 "description": "Document management and e-signature for Vietnamese government offices."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


def _ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", model.__name__).strip("_")
    components[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}


def _query_params(model: type[BaseModel], components: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema.get("properties", {}).items():
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            param["description"] = prop["description"]
        if prop.get("type") == "array" or any(a.get("type") == "array" for a in prop.get("anyOf", [])):
            param["style"], param["explode"] = "form", True
        out.append(param)
    return out


def _responses(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    ok: dict[str, Any] = {"description": "OK"}
    if op.response is not None:
        ok["content"] = {op.produces: {"schema": _ref(op.response, components)}}
    elif op.produces != "application/json":
        ok["content"] = {op.produces: {"schema": {"type": "string", "format": "binary"}}}
    out: dict[str, Any] = {str(op.status): ok}
    out["400"] = {"description": "Invalid input", "content": error}
    if op.auth:
        out["401"] = {"description": "Missing, invalid or expired token", "content": error}
        out["403"] = {"description": "Not allowed", "content": error}
    for code, text in op.extra_responses.items():
        out[str(code)] = {"description": text, "content": error}
    if op.idempotent:
        out.setdefault("409", {"description": "The first request with this Idempotency-Key is still running",
                               "content": error})
        out["422"] = {"description": "Idempotency-Key already used for a different request", "content": error}
    out["503"] = {"description": "A backend is unavailable; retry later", "content": error}
    return out
