"""Domain errors: one small class per failure, mapped to HTTP statuses only at the web edge."""


class PlatoonsError(Exception):
    """Base of every error Platoons raises on purpose; ``message`` is safe to show to users."""

    title = "Platoons error"

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.parameter = parameter


class NotFound(PlatoonsError):
    """Something the caller named does not exist."""

    title = "Not found"


class AreaNotFound(NotFound):
    """No area has the given GSS code in the requested edition's geography."""

    title = "Area not found"


class PointOutsideCoverage(NotFound):
    """The point lies in no loaded English LSOA (outside England, at sea, or not loaded)."""

    title = "Point outside coverage"


class EditionNotFound(NotFound):
    """The named index edition is not loaded."""

    title = "Index edition not found"


class InvalidInput(PlatoonsError):
    """The caller's input is malformed or out of range."""

    title = "Invalid input"


class DataUnavailable(PlatoonsError):
    """The database holds no data yet for what was asked (nothing loaded)."""

    title = "Data not loaded"


class LoadError(PlatoonsError):
    """A source file cannot be loaded: missing, malformed, inconsistent or of the wrong CRS."""

    title = "Load failed"


class DatabaseUnavailable(PlatoonsError):
    """The database cannot be reached; the caller may retry later."""

    title = "Database unavailable"


class CollectionNotFound(NotFound):
    """No collection has the given id."""

    title = "Collection not found"


class TileMatrixSetNotFound(NotFound):
    """The named tile matrix set (tiling scheme) is not served."""

    title = "Tile matrix set not found"


class TileOutOfRange(NotFound):
    """The tile matrix, row or column lies outside the tile matrix set or the tileset's zooms."""

    title = "Tile not found"


class Unauthenticated(PlatoonsError):
    """No valid credentials were given for something that needs them."""

    title = "Authentication required"


class Forbidden(PlatoonsError):
    """The caller's role or scope does not allow this."""

    title = "Forbidden"


class Conflict(PlatoonsError):
    """The request conflicts with the current state (an illegal transition, a stale version)."""

    title = "Conflict"

    def __init__(
        self, message: str, *, allowed: list[str] | None = None, parameter: str | None = None
    ) -> None:
        super().__init__(message, parameter=parameter)
        self.allowed = allowed or []


class ApplicationNotFound(NotFound):
    """No grant application has the id, or the caller may not see it (existence is not leaked)."""

    title = "Application not found"


class IllegalTransition(Conflict):
    """The application's status does not allow this step; ``allowed`` lists the steps it does."""

    title = "Illegal transition"


class BudgetExhausted(Conflict):
    """Approving would commit more than the programme's remaining budget."""

    title = "Budget exhausted"


class StaleVersion(Conflict):
    """The caller's version (``If-Match``) is not the current one: someone changed it first."""

    title = "Precondition failed"


class SubmissionRefused(PlatoonsError):
    """An application fails the programme's checks; ``reasons`` lists every failure."""

    title = "Application cannot be submitted"

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(
            f"the application cannot be submitted: {len(reasons)} check(s) failed: "
            + "; ".join(reasons)
        )
        self.reasons = reasons


class AssetNotFound(NotFound):
    """No asset of community value has the given id."""

    title = "Asset not found"


class AssetOutsideEngland(InvalidInput):
    """An asset's point lies outside England (or outside every loaded LSOA)."""

    title = "Asset outside England"


class DateInFuture(InvalidInput):
    """A date that must already have happened (a notice received, a decision) is after today."""

    title = "Date in the future"


class UnknownGroup(InvalidInput):
    """The named community group is not known to Platoons (no live group key has that name)."""

    title = "Unknown group"


class GroupNotKnown(NotFound):
    """A read asked about a community group (by name or reference) Platoons does not know."""

    title = "Unknown group"


class OutsideStatutoryWindow(Conflict):
    """A statutory period (moratorium, review window, listing) forbids the step on that date."""

    title = "Outside the statutory window"


class GroupNotFound(NotFound):
    """No neighbourhood group has the reference, or the caller may not see it (it is unlisted)."""

    title = "Group not found"


class OrganiserNotFound(NotFound):
    """No community organiser has the reference."""

    title = "Organiser not found"


class RatingNotFound(NotFound):
    """The group has no rating with that id."""

    title = "Rating not found"


class InvalidArea(InvalidInput):
    """A group's area or an organiser's patch is not a valid polygon (the reason says why)."""

    title = "Invalid area"


class AreaOutsideEngland(InvalidInput):
    """Too much of an area lies outside the loaded English districts."""

    title = "Area outside England"


class AreaOutOfRange(InvalidInput):
    """An area is larger than a neighbourhood (or a patch) may be, or too small to be one."""

    title = "Area out of range"


class CodeOfConductNotAccepted(InvalidInput):
    """A group must accept the current neighbourhood code of conduct."""

    title = "Code of conduct not accepted"


class TooManyRequests(PlatoonsError):
    """An abuse limit is reached; ``retry_after`` says in how many seconds to try again."""

    title = "Too many requests"

    def __init__(self, message: str, *, retry_after: int, parameter: str | None = None) -> None:
        super().__init__(message, parameter=parameter)
        self.retry_after = max(1, int(retry_after))


class AmenityBidNotFound(NotFound):
    """No bid to run a threatened amenity has the given id."""

    title = "Amenity bid not found"


class NeighbourhoodAreaNotFound(NotFound):
    """No neighbourhood area (nor forum or plan of one) has the given id."""

    title = "Neighbourhood area not found"


class UnprocessableGeometry(InvalidInput):
    """A geometry is invalid, self-overlapping, outside England or out of range (422)."""

    title = "Unprocessable geometry"


class AreasOverlap(Conflict):
    """Designating the area would overlap a designated neighbourhood area (s.61G(7))."""

    title = "Overlapping neighbourhood areas"


class NoGrantsYet(NotFound):
    """A 360Giving package needs at least one grant, and there is none (yet) to publish."""

    title = "No grants yet"
