"""One mapping per organisation type of the example chain, by the name the CLI uses."""

from __future__ import annotations

from connectors.mappings import police, shelter, veilig_thuis, wijkteam, zvh
from connectors.mappings.base import Export, SourceRow

EXPORTS: dict[str, Export] = {
    export.name: export
    for export in (police.EXPORT, veilig_thuis.EXPORT, zvh.EXPORT, wijkteam.EXPORT, shelter.EXPORT)
}

__all__ = ["EXPORTS", "Export", "SourceRow"]
