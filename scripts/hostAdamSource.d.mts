/** The host Adam kernel's WebAssembly module compiled from hostAdam.wat, as base64. */
export function compileHostAdam(root: string): Promise<string>;
