// What every transform offers; random ones take the generator to draw from.
import { Generator } from "../random";

export interface Transform<In = unknown, Out = unknown> {
  forward(input: In, generator?: Generator): Promise<Out>;
  toString(): string;
}
