/** The synthetic slice's field roles as colour swatches, for a chart's legend line. */
export function FieldRoleSwatches() {
  return (
    <>
      <span className="swatch informative" /> informative <span className="swatch noise" /> pure
      noise <span className="swatch redundant" /> redundant copy
    </>
  );
}
