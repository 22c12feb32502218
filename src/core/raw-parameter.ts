/** One name=value pair as the client supplied it (name spelled as the client spelled it). */
export interface RawParameter {
  name: string;
  value: string;
}
