/**
 * The registry: every compression method of the lab, one line each. A method is its folder
 * (spec.ts with its options and series, method.ts with its phases) plus its line here; the
 * menus order methods by their spec's `order`, and the UI finds the specs by their file names.
 */
export { noneMethod } from './none/method';
export { uniformDimMethod } from './uniform-dim/method';
export { magnitudeMethod } from './magnitude/method';
export { hashingMethod } from './hashing/method';
export { qrMethod } from './qr/method';
export { mixedDimMethod } from './mixed-dim/method';
export { pepMethod } from './pep/method';
export { umecMethod } from './umec/method';
