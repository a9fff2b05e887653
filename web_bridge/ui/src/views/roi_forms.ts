// The ROI editor's side panel: the list of shapes, the fields of the selected
// zone or line, and the camera's analytics parameters.

import { el, labelled, replaceChildren, select } from "../dom";
import { LineSide, ZoneKind } from "../gen/dalevision/edge/v1/config_pb";
import {
  type LineShape,
  type RoiDraft,
  type RoiParameters,
  type Shape,
  ZONE_KINDS,
  type ZoneShape,
} from "../roi_model";

export interface FormCallbacks {
  /** A field changed. `structural` is true when the shape list needs redrawing. */
  onChange: (structural: boolean) => void;
  onSelect: (key: number | null) => void;
  onDelete: () => void;
}

const LINE_SIDES: ReadonlyArray<readonly [string, string]> = [
  [String(LineSide.RIGHT), "Right of A→B"],
  [String(LineSide.LEFT), "Left of A→B"],
];

// Parses a number field, where an empty field counts as `empty`.
function numberOf(input: HTMLInputElement, empty: number): number {
  return input.value.trim() === "" ? empty : Number(input.value);
}

function shapeTitle(shape: Shape): string {
  if (shape.type === "line") {
    return `Line ${shape.id}`;
  }
  const kind = ZONE_KINDS.find(([value]) => value === shape.kind)?.[1] ?? "Zone";
  return `Zone ${shape.id} · ${kind}`;
}

export class RoiForms {
  readonly element: HTMLElement;
  private readonly list = el("ul", { class: "shape-list", "data-testid": "roi-shape-list" });
  private readonly shapeBox = el("div", { class: "shape-form", "data-testid": "roi-shape-form" });
  private readonly parametersBox = el("fieldset", { class: "parameters" });
  private readonly pointsText = el("p", { class: "muted", "data-testid": "roi-shape-points" });

  constructor(
    private readonly getDraft: () => RoiDraft,
    /** Fields are shown but cannot be changed. */
    private readonly readOnly: boolean,
    private readonly callbacks: FormCallbacks,
  ) {
    this.element = el(
      "div",
      { class: "roi-forms" },
      el("h2", {}, "Shapes"),
      this.list,
      this.shapeBox,
      this.parametersBox,
    );
    this.renderShape(null);
  }

  renderList(selectedKey: number | null): void {
    const shapes = this.getDraft().shapes;
    if (shapes.length === 0) {
      replaceChildren(this.list, el("li", { class: "muted" }, "No zones or lines yet."));
      return;
    }
    replaceChildren(
      this.list,
      ...shapes.map((shape) =>
        el(
          "li",
          {},
          el(
            "button",
            {
              type: "button",
              class: shape.key === selectedKey ? "link selected" : "link",
              "aria-pressed": String(shape.key === selectedKey),
              "data-testid": `roi-select-${shape.type}-${shape.id}`,
              onclick: () => this.callbacks.onSelect(shape.key),
            },
            shapeTitle(shape),
          ),
        ),
      ),
    );
  }

  renderShape(shape: Shape | null): void {
    if (shape === null) {
      replaceChildren(
        this.shapeBox,
        el("p", { class: "muted" }, "Select a shape to change its settings, or draw a new one."),
      );
      return;
    }
    const idInput = el("input", {
      type: "text",
      value: shape.id,
      "data-testid": "roi-shape-id",
      required: true,
    });
    idInput.addEventListener("input", () => {
      shape.id = idInput.value.trim();
      this.callbacks.onChange(true);
    });
    const nameInput = el("input", {
      type: "text",
      value: shape.name,
      "data-testid": "roi-shape-name",
    });
    nameInput.addEventListener("input", () => {
      shape.name = nameInput.value;
      this.callbacks.onChange(false);
    });
    const fields = shape.type === "zone" ? this.zoneFields(shape) : this.lineFields(shape);
    const deleteButton = el(
      "button",
      {
        type: "button",
        class: "danger",
        "data-testid": "roi-delete-shape",
        onclick: () => this.callbacks.onDelete(),
      },
      `Delete ${shape.type}`,
    );
    replaceChildren(
      this.shapeBox,
      el("h3", {}, shape.type === "zone" ? "Zone" : "Line"),
      labelled("Id", idInput),
      labelled("Name", nameInput),
      ...fields,
      this.pointsText,
      deleteButton,
    );
    this.refreshPoints(shape);
    this.disableWhenReadOnly(this.shapeBox);
  }

  private disableWhenReadOnly(container: HTMLElement): void {
    if (!this.readOnly) {
      return;
    }
    for (const control of container.querySelectorAll("input, select, button")) {
      (control as HTMLInputElement).disabled = true;
    }
  }

  refreshPoints(shape: Shape | null): void {
    if (shape === null) {
      this.pointsText.textContent = "";
    } else if (shape.type === "zone") {
      this.pointsText.textContent = `${shape.polygon.length} corners`;
    } else {
      this.pointsText.textContent = `A (${shape.a.x}, ${shape.a.y}) → B (${shape.b.x}, ${shape.b.y})`;
    }
  }

  private zoneFields(zone: ZoneShape): HTMLElement[] {
    const kindSelect = select(
      { "data-testid": "roi-zone-kind" },
      ZONE_KINDS.map(([value, label]) => [String(value), label] as const),
      String(zone.kind),
    );
    const capacityInput = el("input", {
      type: "number",
      min: 0,
      step: 1,
      value: zone.capacity === 0 ? "" : zone.capacity,
      placeholder: "none",
      "data-testid": "roi-zone-capacity",
    });
    capacityInput.addEventListener("input", () => {
      zone.capacity = numberOf(capacityInput, 0);
      this.callbacks.onChange(false);
    });
    const staffZones = this.getDraft().shapes.filter(
      (shape): shape is ZoneShape =>
        shape.type === "zone" && shape.kind === ZoneKind.CHECKOUT_STAFF,
    );
    const staffSelect = select(
      { "data-testid": "roi-zone-staff" },
      [
        ["", "The camera's only staff zone"],
        ...staffZones.map((staff) => [staff.id, staff.id] as const),
      ],
      zone.staffZoneId,
    );
    staffSelect.addEventListener("change", () => {
      zone.staffZoneId = staffSelect.value;
      this.callbacks.onChange(false);
    });
    const staffField = labelled("Served by staff zone", staffSelect);
    staffField.hidden = zone.kind !== ZoneKind.CHECKOUT_CUSTOMER;
    kindSelect.addEventListener("change", () => {
      zone.kind = Number(kindSelect.value) as ZoneKind;
      staffField.hidden = zone.kind !== ZoneKind.CHECKOUT_CUSTOMER;
      this.callbacks.onChange(true);
    });
    return [
      labelled("Kind", kindSelect),
      labelled("Capacity (people; empty for none)", capacityInput),
      staffField,
    ];
  }

  private lineFields(line: LineShape): HTMLElement[] {
    const sideSelect = select({ "data-testid": "roi-line-side" }, LINE_SIDES, String(line.inSide));
    sideSelect.addEventListener("change", () => {
      line.inSide = Number(sideSelect.value) as LineSide;
      this.callbacks.onChange(false);
    });
    const cooldownInput = el("input", {
      type: "number",
      min: 0,
      step: 0.5,
      value: line.cooldownSeconds,
      "data-testid": "roi-line-cooldown",
    });
    cooldownInput.addEventListener("input", () => {
      line.cooldownSeconds = numberOf(cooldownInput, 0);
      this.callbacks.onChange(false);
    });
    return [
      labelled("\u201cIn\u201d side (as seen walking from A to B)", sideSelect),
      labelled("Cooldown per person (seconds)", cooldownInput),
    ];
  }

  renderParameters(): void {
    const parameters = this.getDraft().parameters;
    const field = (label: string, key: keyof RoiParameters, testId: string) => {
      const input = el("input", {
        type: "number",
        min: 0,
        step: 1,
        value: parameters[key],
        "data-testid": testId,
      });
      input.addEventListener("input", () => {
        parameters[key] = numberOf(input, Number.NaN);
        this.callbacks.onChange(false);
      });
      return labelled(label, input);
    };
    replaceChildren(
      this.parametersBox,
      el("legend", {}, "Analytics parameters"),
      field("Checkout dwell (seconds)", "checkoutDwellSeconds", "roi-param-checkout-dwell"),
      field(
        "Checkout failsafe (seconds)",
        "checkoutFailsafeSeconds",
        "roi-param-checkout-failsafe",
      ),
      field("Minimum dwell (seconds)", "minDwellSeconds", "roi-param-min-dwell"),
    );
    this.disableWhenReadOnly(this.parametersBox);
  }
}
