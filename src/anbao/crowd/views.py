"""Crowd-safety routes: safe capacity 容量核定 and its settings, evacuation runs 疏散推演."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from anbao.api.deps import DB, EventDep, require
from anbao.core.auth import Perm, Principal
from anbao.core.errors import NotFound
from anbao.crowd import capacity, evacuation, flows
from anbao.crowd.schemas import CapacityOut, CapacitySettingsIn, CapacitySettingsOut, EvacuationIn, EvacuationRunOut

TAG = "预案 plans"
Reader = Annotated[Principal, Depends(require(Perm.event_read))]
Planner = Annotated[Principal, Depends(require(Perm.plan_write))]

router = APIRouter()



@router.get("/events/{event_id}/capacity", response_model=CapacityOut, tags=[TAG],
            summary="Safe capacity 容量核定 of every zone and of the venue (Green Guide), with the working")
def get_capacity(event: EventDep, db: DB, principal: Reader) -> Any:
    return capacity.compute(db=db, event_id=event.id)


@router.get("/events/{event_id}/capacity-settings", response_model=CapacitySettingsOut, tags=[TAG],
            summary="Times, density and safety factors used by the capacity calculation")
def get_capacity_settings(event: EventDep, db: DB, principal: Reader) -> Any:
    return capacity.settings(db=db, event_id=event.id)


@router.put("/events/{event_id}/capacity-settings", response_model=CapacitySettingsOut, tags=[TAG],
            summary="Set the capacity parameters (unknown zone codes are refused)")
def put_capacity_settings(event: EventDep, body: CapacitySettingsIn, db: DB, principal: Planner) -> Any:
    return capacity.save_settings(db=db, event_id=event.id, data=body.model_dump())


def _runs(request: Request) -> flows.Runs:
    runs: flows.Runs = request.app.state.evacuation_runs  # made with the app (anbao.app.create_app)
    return runs


@router.post("/events/{event_id}/evacuation-runs", response_model=EvacuationRunOut,
             status_code=status.HTTP_202_ACCEPTED, tags=[TAG],
             summary="Start an evacuation simulation 疏散推演 (macro: venue or zone; jupedsim: one zone); poll it")
def start_evacuation(event: EventDep, body: EvacuationIn, request: Request, db: DB, principal: Planner) -> Any:
    job = evacuation.prepare(db=db, event_id=event.id, model=body.model, zone=body.zone, people=body.people,
                             agents=body.agents, max_s=body.max_s)
    runs = _runs(request)
    run = runs.start(event.id, job, user=principal.actor)  # 429 past the queue limits (docs/limits.md)
    if job.model == "macro":
        runs.wait(run, 5.0)  # seconds at most: the answer usually comes with the request
    return run.view()


def _run(request: Request, event_id: int, run_id: str) -> flows.Run:
    run = _runs(request).get(event_id, run_id)
    if run is None:
        raise NotFound(f"evacuation run {run_id} not found in event {event_id} (runs are kept in memory)")
    return run


@router.get("/events/{event_id}/evacuation-runs/{run_id}", response_model=EvacuationRunOut, tags=[TAG],
            summary="An evacuation run: progress, then the result (clearance time, flow per exit, zones)")
def get_evacuation(event: EventDep, run_id: str, request: Request, principal: Reader) -> Any:
    return _run(request, event.id, run_id).view()


@router.get("/events/{event_id}/evacuation-runs/{run_id}/heatmap.png", tags=[TAG], response_class=Response,
            responses={200: {"content": {"image/png": {}}}},
            summary="Highest density per cell over a JuPedSim run (PNG heat-map)")
def evacuation_heatmap(event: EventDep, run_id: str, request: Request, principal: Reader) -> Response:
    run = _run(request, event.id, run_id)
    if run.png is None:
        raise NotFound(f"evacuation run {run_id} has no heat-map (" + ("still running" if run.status == "running"
                                                                       else "macro model runs have none") + ")")
    return Response(run.png, media_type="image/png")
