"""GET /api/optimizers: every optimizer's sliders and colour, and the schedule controls.

The page builds all its optimizer and schedule controls from this reply and holds no
defaults of its own, so a new optimizer or schedule in the core shows up without touching
the page. The data is app.catalogue's, which `gradscape list` prints too, plus each
optimizer's update rule as MathML (app.equations) for the page's equation panel.
"""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.catalogue import optimizer_catalogue
from app.equations import equations
from app.http_cache import Payload, respond
from app.schemas import OptimizersReply

router = APIRouter(prefix="/api", tags=["optimizers"])


@router.get(
    "/optimizers",
    response_model=OptimizersReply,
    summary="Every optimizer with its hyperparameters and colour; the schedule kinds",
)
def list_optimizers(request: Request) -> Response:
    return respond(request, _catalogue_json())


@lru_cache(maxsize=1)
def _catalogue_json() -> Payload:
    # Fixed bytes, so a strong ETag from their content lets a warm page load get a 304.
    return Payload(
        with_equations(optimizer_catalogue()).model_dump_json().encode(), "application/json"
    )


def with_equations(reply: OptimizersReply) -> OptimizersReply:
    """The catalogue with each typeset optimizer's lecture lines and update terms."""
    infos = []
    for info in reply.optimizers:
        typeset = equations(info.name)
        if typeset is not None:
            info = info.model_copy(
                update={
                    "lecture": list(typeset.lecture),
                    "terms": {term.key: term.mathml for term in typeset.terms},
                }
            )
        infos.append(info)
    return reply.model_copy(update={"optimizers": infos})
