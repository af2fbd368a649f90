export async function failureBoots() {
  return [];
}
