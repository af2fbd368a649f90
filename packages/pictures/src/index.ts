export { type DotOptions, pictureTitle, toDot } from "./dot.js";
export { fleetSection, type ReportFleet } from "./fleet-section.js";
export { toMermaid } from "./mermaid.js";
export { reportPageScript } from "./page-script.js";
export {
  FOLD_MIN,
  goldenMatrix,
  type Picture,
  type PictureEdge,
  type PictureLine,
  type PictureNode,
  type PictureOptions,
  type PicturePath,
  picture,
  type StopMark,
  type Tag,
  tagsOf,
} from "./picture.js";
export {
  esc,
  type MatrixCellData,
  type PageData,
  type ReportData,
  type ReportInput,
  reportData,
  reportHtml,
} from "./report.js";
export { inlineSvg, renderSvg, type Svg } from "./svg.js";
