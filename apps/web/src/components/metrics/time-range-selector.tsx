'use client';

import { TIME_RANGES, type TimeRangeId } from './time-range';

/** A segmented control built from radio buttons: arrow keys move between ranges, as users expect. */
export function TimeRangeSelector({ value, onChange }: { value: TimeRangeId; onChange: (range: TimeRangeId) => void }) {
  return (
    <fieldset className="segmented">
      <legend className="visually-hidden">Time range</legend>
      {TIME_RANGES.map((range) => (
        <label key={range.id} className="segmented-option">
          <input type="radio" name="time-range" value={range.id} checked={value === range.id} onChange={() => onChange(range.id)} />
          <span>{range.label}</span>
        </label>
      ))}
    </fieldset>
  );
}
