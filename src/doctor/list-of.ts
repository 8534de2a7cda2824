/** Up to 5 names, then how many more: for notes that may name hundreds of clusters. */
export const listOf = (names: readonly string[]): string =>
  names.length <= 5 ? names.join(", ") : `${names.slice(0, 5).join(", ")} and ${names.length - 5} more`;
