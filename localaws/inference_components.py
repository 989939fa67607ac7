"""Inference components and the instances under them, with copies that arrive over time.

The state behind the SageMaker API that ``localaws.sagemaker_ic`` adds to moto. Each endpoint
has a small fleet of instances (``localaws.ic_fleet``). Copies are placed, timed and removed,
and idle instances released, by the simulator's rule (``sim.placement``): a new copy goes to a
running instance with room, accelerators and host memory (path ``warm_instance``), joins an
instance still launching, or starts a new instance whose image is either cached for the
endpoint (``cached``, after a copy of that image once served there) or pulled (``uncached``).
``InferenceComponentControl.ready_delay(component, path, model_on_instance)`` says how long a
copy takes (``model_on_instance``: on the warm path, the instance held that model before and the
component caches its data, ``DataCacheConfig.EnableCaching``) and ``clock()`` says what time it
is, so a test moves ``CurrentCopyCount`` toward ``DesiredCopyCount`` by advancing a fake clock,
and the demo plugs in the cold-start model.
The component is ``Creating`` / ``Updating`` until every desired copy serves, and an update
while it is not ``InService`` is refused with ``ValidationException``, as SageMaker refuses an
update of an endpoint whose update is in progress. ``inject_fault`` makes the next calls fail
with a chosen error code (``ThrottlingException``, ``ResourceLimitExceeded``, ...).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.core.utils import utcnow
from moto.sagemaker.exceptions import SagemakerClientError, ValidationError
from moto.sagemaker.utils import arn_formatter

from .ic_fleet import Copy, Fleet, Need

PATHS = ("warm_instance", "cached", "uncached")
IN_SERVICE, CREATING, UPDATING = "InService", "Creating", "Updating"

Clock = Callable[[], float]
# (component, path, model already on the instance) -> seconds until the copy serves
ReadyDelay = Callable[[str, str, bool], float]


@dataclass
class _Component:
    name: str
    arn: str
    endpoint_name: str
    endpoint_arn: str
    variant_name: str
    specification: dict[str, Any]
    image: str
    accelerators: int
    memory_mb: int
    data_cache: bool  # DataCacheConfig.EnableCaching
    desired: int
    created: datetime
    modified: datetime
    status: str = CREATING
    copies: list[Copy] = field(default_factory=list)


class InferenceComponentControl:
    """The inference components of one account and region, and the knobs tests turn."""

    def __init__(self, account_id: str, region_name: str) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.clock: Clock = time.time
        self.ready_delay: ReadyDelay = lambda component, path, model_on_instance: 0.0
        self.components: dict[str, _Component] = {}
        self.fleets: dict[str, Fleet] = {}
        self._faults: dict[tuple[str, str], deque[tuple[str, str]]] = {}
        self._lock = threading.RLock()

    # --- knobs ---------------------------------------------------------------------------
    def set_clock(self, clock: Clock) -> None:
        """Use ``clock()`` (seconds) instead of wall time to decide which copies serve."""
        self.clock = clock

    def set_ready_delay(self, ready_delay: ReadyDelay) -> None:
        """Seconds a new copy of ``component`` takes to serve on ``path`` (see ``PATHS``),
        given whether its model is already on the instance (warm path only)."""
        self.ready_delay = ready_delay

    def inject_fault(
        self, operation: str, component: str, code: str, message: str, times: int = 1
    ) -> None:
        """The next ``times`` calls of ``operation`` on ``component`` fail with ``code``.

        ``operation`` is the API name, e.g. ``UpdateInferenceComponentRuntimeConfig``; the
        failing call changes nothing."""
        queue = self._faults.setdefault((operation, component), deque())
        queue.extend([(code, message)] * times)

    def instance_counts(self, endpoint_name: str) -> tuple[int, int]:
        """``(current, desired)`` instances of an endpoint that has inference components."""
        with self._lock:
            self._settle()
            fleet = self.fleets.get(endpoint_name)
            if fleet is None:
                return 0, 0
            now = self.clock()
            current = sum(1 for i in fleet.instances if i.ready_at <= now)
            return current, len(fleet.instances)

    def cached_images(self, endpoint_name: str) -> frozenset[str]:
        with self._lock:
            self._settle()
            fleet = self.fleets.get(endpoint_name)
            return frozenset(fleet.cached_images) if fleet else frozenset()

    # --- the API -------------------------------------------------------------------------
    def create(
        self,
        backend: Any,
        name: str,
        endpoint_name: str,
        variant_name: str | None,
        specification: dict[str, Any],
        runtime_config: dict[str, Any] | None,
    ) -> _Component:
        with self._lock:
            self._fault("CreateInferenceComponent", name)
            if name in self.components:
                raise ValidationError(
                    f'Cannot create already existing inference component "{self._arn(name)}".'
                )
            endpoint = backend.endpoints.get(endpoint_name)
            if endpoint is None:
                arn = arn_formatter("endpoint", endpoint_name, self.account_id, self.region_name)
                raise ValidationError(f'Could not find endpoint "{arn}".')
            variants = _config_variants(backend, endpoint)
            if variant_name is None:
                variant_name = variants[0]["VariantName"] if variants else "AllTraffic"
            variant = next((v for v in variants if v["VariantName"] == variant_name), None)
            if variant is None:
                raise ValidationError(
                    f'Could not find variant "{variant_name}" on endpoint "{endpoint_name}".'
                )
            model_name = specification.get("ModelName")
            image = (specification.get("Container") or {}).get("Image")
            if model_name is not None:
                model = backend._models.get(model_name)
                if model is None:
                    arn = arn_formatter("model", model_name, self.account_id, self.region_name)
                    raise ValidationError(f'Could not find model "{arn}".')
                image = image or (model.primary_container or {}).get("Image")
            requirements = specification.get("ComputeResourceRequirements") or {}
            fleet = self._fleet(endpoint_name, variant)
            accelerators = int(requirements.get("NumberOfAcceleratorDevicesRequired") or 1)
            if accelerators > fleet.accelerators_per_instance:
                raise ValidationError(
                    f"NumberOfAcceleratorDevicesRequired {accelerators} exceeds the "
                    f"{fleet.accelerators_per_instance} of {fleet.instance_type}."
                )
            memory_mb = int(requirements.get("MinMemoryRequiredInMb") or 0)
            if memory_mb > fleet.memory_mb_per_instance:
                raise ValidationError(
                    f"MinMemoryRequiredInMb {memory_mb} exceeds the "
                    f"{fleet.memory_mb_per_instance} MB of {fleet.instance_type}."
                )
            now_dt = utcnow()
            component = _Component(
                name=name,
                arn=self._arn(name),
                endpoint_name=endpoint_name,
                endpoint_arn=endpoint.arn,
                variant_name=variant_name,
                specification=dict(specification),
                image=image or "",
                accelerators=accelerators,
                memory_mb=memory_mb,
                data_cache=bool((specification.get("DataCacheConfig") or {}).get("EnableCaching")),
                desired=int((runtime_config or {}).get("CopyCount", 1)),
                created=now_dt,
                modified=now_dt,
            )
            self.components[name] = component
            self._resize(component)
            self._settle()
            return component

    def describe(self, name: str) -> dict[str, Any]:
        with self._lock:
            self._fault("DescribeInferenceComponent", name)
            self._settle()
            return self._describe(self._get(name))

    def list(
        self,
        endpoint_name: str | None,
        status: str | None,
        name_contains: str | None,
        sort_order: str | None,
    ) -> list[dict[str, Any]]:
        with self._lock:
            self._settle()
            found = [
                c
                for c in self.components.values()
                if (endpoint_name is None or c.endpoint_name == endpoint_name)
                and (status is None or c.status == status)
                and (name_contains is None or name_contains in c.name)
            ]
            found.sort(key=lambda c: c.created, reverse=sort_order != "Ascending")
            return [
                {
                    "CreationTime": c.created,
                    "InferenceComponentArn": c.arn,
                    "InferenceComponentName": c.name,
                    "EndpointArn": c.endpoint_arn,
                    "EndpointName": c.endpoint_name,
                    "VariantName": c.variant_name,
                    "InferenceComponentStatus": c.status,
                    "LastModifiedTime": c.modified,
                }
                for c in found
            ]

    def update_runtime_config(self, name: str, copy_count: int) -> _Component:
        with self._lock:
            self._fault("UpdateInferenceComponentRuntimeConfig", name)
            self._settle()
            component = self._get(name)
            if component.status != IN_SERVICE:
                raise ValidationError(
                    f'Cannot update in-progress inference component "{component.arn}" '
                    f"(status {component.status})."
                )
            if copy_count != component.desired:
                component.desired = copy_count
                component.status = UPDATING
                component.modified = utcnow()
                self._resize(component)
                self._settle()
            return component

    def delete(self, name: str) -> None:
        with self._lock:
            self._fault("DeleteInferenceComponent", name)
            component = self._get(name)
            component.desired = 0
            self._resize(component)
            del self.components[name]
            self.fleets[component.endpoint_name].release_idle(self.clock())

    def delete_endpoint(self, endpoint_name: str) -> None:
        """SageMaker purges an endpoint's cache with it; its components go too."""
        with self._lock:
            for name in [n for n, c in self.components.items() if c.endpoint_name == endpoint_name]:
                del self.components[name]
            self.fleets.pop(endpoint_name, None)

    # --- internals -----------------------------------------------------------------------
    def _arn(self, name: str) -> str:
        return arn_formatter("inference-component", name, self.account_id, self.region_name)

    def _get(self, name: str) -> _Component:
        try:
            return self.components[name]
        except KeyError:
            raise ValidationError(
                f'Could not find inference component "{self._arn(name)}".'
            ) from None

    def _fault(self, operation: str, name: str) -> None:
        queue = self._faults.get((operation, name))
        if queue:
            code, message = queue.popleft()
            raise SagemakerClientError(code, message)

    def _fleet(self, endpoint_name: str, variant: dict[str, Any]) -> Fleet:
        fleet = self.fleets.get(endpoint_name)
        if fleet is None:
            fleet = self.fleets[endpoint_name] = Fleet.of_variant(
                endpoint_name, variant, self.clock()
            )
        return fleet

    def _need(self, component: _Component) -> Need:
        return Need(
            component.name,
            component.image,
            component.accelerators,
            component.memory_mb,
            component.data_cache,
            lambda path, held: self.ready_delay(component.name, path, held),
        )

    def _resize(self, component: _Component) -> None:
        """Add or remove copies so that ``component`` has ``desired`` of them."""
        fleet = self.fleets[component.endpoint_name]
        now = self.clock()
        while len(component.copies) > component.desired:
            fleet.remove(self._need(component), component.copies, now)
        while len(component.copies) < component.desired:
            component.copies.append(Copy())
        fleet.release_idle(now)

    def _settle(self) -> None:
        """Bring every component up to ``clock()``: place waiting copies, finish transitions."""
        now = self.clock()
        for fleet in self.fleets.values():
            fleet.release_idle(now)
        for component in self.components.values():
            fleet = self.fleets[component.endpoint_name]
            for copy in component.copies:
                if copy.instance is None:
                    fleet.place(self._need(component), copy, now)
            ready = [c for c in component.copies if c.ready_at <= now]
            if ready and component.image:
                self.fleets[component.endpoint_name].cached_images.add(component.image)
            if component.status in (CREATING, UPDATING) and len(ready) == component.desired:
                component.status = IN_SERVICE
                component.modified = utcnow()

    def _describe(self, c: _Component) -> dict[str, Any]:
        now = self.clock()
        spec = {k: v for k, v in c.specification.items() if k != "Container"}
        container = c.specification.get("Container")
        if container:
            summary = {k: v for k, v in container.items() if k != "Image"}
            if "Image" in container:
                summary["DeployedImage"] = {
                    "SpecifiedImage": container["Image"],
                    "ResolvedImage": container["Image"],
                }
            spec["Container"] = summary
        return {
            "InferenceComponentName": c.name,
            "InferenceComponentArn": c.arn,
            "EndpointName": c.endpoint_name,
            "EndpointArn": c.endpoint_arn,
            "VariantName": c.variant_name,
            "Specification": spec,
            "RuntimeConfig": {
                "DesiredCopyCount": c.desired,
                "CurrentCopyCount": sum(1 for x in c.copies if x.ready_at <= now),
            },
            "CreationTime": c.created,
            "LastModifiedTime": c.modified,
            "InferenceComponentStatus": c.status,
        }


def _config_variants(backend: Any, endpoint: Any) -> list[dict[str, Any]]:
    config = backend.endpoint_configs.get(endpoint.endpoint_config_name)
    return list(config.production_variants) if config is not None else []
